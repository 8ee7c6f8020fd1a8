using System.Text.Json;
using System.Text.RegularExpressions;

namespace Nms.Infra.Tests;

/// <summary>main.bicep's defaults for the app's tunables are the sample's values, so Azure behaves like a local run.</summary>
public sealed partial class TemplateDefaultsTests
{
    private static readonly string Main = RepoFiles.Read("infra/main.bicep");

    // main.bicep parameter -> the sample setting it feeds (through modules/functionapp.bicep).
    public static TheoryData<string, string> Tunables => new()
    {
        { "schedulerSchedule", "NmsSchedulerSchedule" },
        { "maintenanceSchedule", "NmsMaintenanceSchedule" },
        { "recoverySchedule", "NmsRecoverySchedule" },
        { "compactionSchedule", "NmsCompactionSchedule" },
        { "pluginMaxConcurrentProcesses", "Nms__Plugins__MaxConcurrentProcesses" },
        { "pluginRunTimeoutSeconds", "Nms__Plugins__RunTimeoutSeconds" },
        { "discoveryMaxAddressesPerRun", "Nms__Discovery__MaxAddressesPerRun" },
        { "discoveryBatchSize", "Nms__Discovery__BatchSize" },
        { "pollingBatchSize", "Nms__Polling__BatchSize" },
        { "healthWindowSeconds", "Nms__Health__WindowSeconds" },
        { "healthThreshold", "Nms__Health__Threshold" },
        { "healthRecoveryProbeEnabled", "Nms__Health__RecoveryProbeEnabled" },
        { "metricsRawRetentionDays", "Nms__Metrics__RawRetentionDays" },
        { "metricsRollup5mRetentionDays", "Nms__Metrics__Rollup5mRetentionDays" },
        { "metricsRollup1hRetentionDays", "Nms__Metrics__Rollup1hRetentionDays" },
    };

    [Theory]
    [MemberData(nameof(Tunables))]
    public void Template_defaults_match_the_sample(string parameter, string setting)
    {
        var declaration = ParamDefault().Matches(Main).SingleOrDefault(m => m.Groups["name"].Value == parameter);
        Assert.True(declaration is not null, $"main.bicep has no 'param {parameter} <type> = <default>'");

        Assert.Equal(SampleValue(setting), declaration.Groups["value"].Value.Trim('\''));
    }

    [Theory]
    [InlineData("discovery", "NmsDiscoveryQueue")]
    [InlineData("poll", "NmsPollQueue")]
    [InlineData("metrics", "NmsMetricsQueue")]
    [InlineData("failures", "NmsFailuresQueue")]
    public void Queue_name_defaults_match_the_sample(string key, string setting)
    {
        Assert.Matches($@"param queueNames object = \{{[^}}]*\n  {key}: '{Regex.Escape(SampleValue(setting))}'\n", Main.Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    private static string SampleValue(string setting)
    {
        using var sample = JsonDocument.Parse(RepoFiles.Read(SettingsContract.SamplePath));
        return sample.RootElement.GetProperty("Values").GetProperty(setting).GetString()!;
    }

    [GeneratedRegex(@"^param (?<name>\w+) (?:int|string|bool) = (?<value>.+?)\s*$", RegexOptions.Multiline)]
    private static partial Regex ParamDefault();
}
