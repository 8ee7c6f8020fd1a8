using System.Reflection;
using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using Nms.Core.Configuration;
using Nms.Core.Health;
using Nms.Core.Observability;
using Nms.Core.Polling;
using Nms.Core.Queues;
using Nms.Core.Reachability;
using Nms.Core.Resilience;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Foundation;

/// <summary>
/// local.settings.sample.json is the list of every setting (and the infra drift test holds the
/// Bicep template to it): an option added in code without a sample line fails here.
/// </summary>
public sealed class SettingsSampleTests
{
    private static readonly string[] HostSettings = ["AzureWebJobsStorage", "FUNCTIONS_WORKER_RUNTIME"];

    [Fact]
    public void Sample_lists_every_setting_the_app_reads()
    {
        var missing = SettingsTheAppReads().Except(SampleKeys(), StringComparer.OrdinalIgnoreCase).Order().ToList();

        Assert.Empty(missing);
    }

    [Fact]
    public void Sample_lists_nothing_the_app_does_not_read()
    {
        var read = SettingsTheAppReads().Concat(HostSettings).ToHashSet(StringComparer.OrdinalIgnoreCase);

        var unread = SampleKeys().Where(key => !read.Contains(key) && !key.StartsWith("Nms:Crypto:Keys:", StringComparison.Ordinal)).ToList();

        Assert.Empty(unread);
    }

    private static IEnumerable<string> SettingsTheAppReads()
    {
        var options = OptionKeys(typeof(NmsOptions), NmsOptions.Section)
            .Where(key => key != "Nms:Crypto:Keys")
            .Concat(OptionKeys(typeof(HealthRecoveryOptions), $"{NmsOptions.Section}:Health"))
            .Concat(OptionKeys(typeof(ResilienceOptions), ResilienceOptions.Section))
            .Concat(OptionKeys(typeof(QueueMonitorOptions), QueueServices.Section))
            .Concat(OptionKeys(typeof(TelemetryOptions), TelemetryOptions.Section))
            .Append(ReachabilityChecker.UdpPluginsSetting)
            .Concat([QueueNames.DiscoverySetting, QueueNames.PollSetting, QueueNames.MetricsSetting, QueueNames.FailuresSetting, QueueNames.NotificationsSetting]);
        return options.Concat(TimerScheduleSettings()).Distinct();
    }

    private static IEnumerable<string> OptionKeys(Type type, string prefix) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(property => property.CanWrite)
            .SelectMany(property => IsLeaf(property.PropertyType)
                ? [$"{prefix}:{property.Name}"]
                : OptionKeys(property.PropertyType, $"{prefix}:{property.Name}"));

    private static bool IsLeaf(Type type) =>
        type.IsPrimitive || type == typeof(string) || type.IsEnum || type.IsGenericType;

    private static IEnumerable<string> TimerScheduleSettings() =>
        typeof(Functions.NmsFunctionsServices).Assembly.GetTypes()
            .SelectMany(type => type.GetMethods())
            .SelectMany(method => method.GetParameters())
            .Select(parameter => parameter.GetCustomAttribute<TimerTriggerAttribute>()?.Schedule)
            .OfType<string>()
            .Select(schedule => schedule.Trim('%'));

    private static IEnumerable<string> SampleKeys()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestEnvironment.RepositoryRoot, "local.settings.sample.json")));
        return document.RootElement.GetProperty("Values").EnumerateObject().Select(p => p.Name.Replace("__", ":", StringComparison.Ordinal)).ToList();
    }
}
