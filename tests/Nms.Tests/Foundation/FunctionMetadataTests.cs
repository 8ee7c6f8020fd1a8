using System.Text.Json;
using Nms.Core.Credentials;
using Nms.Functions.LocalHost;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Foundation;

/// <summary>
/// Reads the <c>functions.metadata</c> the Worker SDK generates beside the built app: what the
/// real Functions host will bind. A trigger changed in code without its expectation here fails,
/// so a binding mistake the local host could hide never reaches Azure.
/// </summary>
public sealed class FunctionMetadataTests
{
    private const string Storage = "AzureWebJobsStorage";

    /// <summary>Every function the app exposes: its trigger and what the trigger binds to.</summary>
    private static readonly Dictionary<string, ExpectedTrigger> Expected = new()
    {
        ["Health"] = Http("health", "Anonymous", "get"),
        // Entities (issue 3).
        ["ListCredentialProfiles"] = Http("credential_profiles", "Function", "get"),
        ["CreateCredentialProfile"] = Http("credential_profiles", "Function", "post"),
        ["GetCredentialProfile"] = Http("credential_profiles/{id}", "Function", "get"),
        ["ReplaceCredentialProfile"] = Http("credential_profiles/{id}", "Function", "put"),
        ["DeleteCredentialProfile"] = Http("credential_profiles/{id}", "Function", "delete"),
        ["ListDiscoveryProfiles"] = Http("discovery_profiles", "Function", "get"),
        ["CreateDiscoveryProfile"] = Http("discovery_profiles", "Function", "post"),
        ["GetDiscoveryProfile"] = Http("discovery_profiles/{id}", "Function", "get"),
        ["ReplaceDiscoveryProfile"] = Http("discovery_profiles/{id}", "Function", "put"),
        ["DeleteDiscoveryProfile"] = Http("discovery_profiles/{id}", "Function", "delete"),
        ["ListPollProfiles"] = Http("poll_profiles", "Function", "get"),
        ["ListQueues"] = Http("queues", "Function", "get"),
        ["ReplayPoisonQueue"] = Http("queues/{name}/poison/replay", "Function", "post"),
        ["CreatePollProfile"] = Http("poll_profiles", "Function", "post"),
        ["GetPollProfile"] = Http("poll_profiles/{id}", "Function", "get"),
        ["ReplacePollProfile"] = Http("poll_profiles/{id}", "Function", "put"),
        ["DeletePollProfile"] = Http("poll_profiles/{id}", "Function", "delete"),
        ["ListDevices"] = Http("devices", "Function", "get"),
        ["CreateDevice"] = Http("devices", "Function", "post"),
        ["GetDevice"] = Http("devices/{id}", "Function", "get"),
        ["UpdateDevice"] = Http("devices/{id}", "Function", "patch"),
        ["DeleteDevice"] = Http("devices/{id}", "Function", "delete"),
        ["ListApiKeys"] = Http("api_keys", "Function", "get"),
        ["CreateApiKey"] = Http("api_keys", "Function", "post"),
        ["GetApiKey"] = Http("api_keys/{id}", "Function", "get"),
        ["RevokeApiKey"] = Http("api_keys/{id}", "Function", "delete"),
        ["OpenApiDocument"] = Http("openapi.json", "Function", "get"),
        ["ResealCredentials"] = Timer("NmsMaintenanceSchedule"),
        // Discovery (issue 5).
        ["DiscoveryRunStart"] = Http("discovery_profiles/{id:long}/run", "Function", "post"),
        ["DiscoveryRunGet"] = Http("discovery_runs/{id:guid}", "Function", "get"),
        ["DiscoveryRunList"] = Http("discovery_profiles/{id:long}/runs", "Function", "get"),
        ["DiscoveryBatch"] = Queue("NmsDiscoveryQueue"),
        // Polling and metrics (issue 6).
        ["PollScheduler"] = Timer("NmsSchedulerSchedule"),
        ["Poller"] = Queue("NmsPollQueue"),
        ["MetricsWriter"] = Queue("NmsMetricsQueue"),
        ["MetricsMaintenance"] = Timer("NmsMaintenanceSchedule"),
        // Metrics store v2 (issue 12).
        ["MetricsCompaction"] = Timer("NmsCompactionSchedule"),
        ["DeviceSeries"] = Http("devices/{id}/series", "Function", "get"),
        ["DeviceMetrics"] = Http("devices/{id}/metrics", "Function", "get"),
        ["DeviceMetricsLatest"] = Http("devices/{id}/metrics/latest", "Function", "get"),
        // Health (issue 7).
        ["DeviceHealth"] = Http("device_health", "Function", "get"),
        ["HealthFailureConsumer"] = Queue("NmsFailuresQueue"),
        ["HealthRecoveryProbe"] = Timer("NmsRecoverySchedule"),
        // Alerting (issue 14).
        ["GetDeviceTags"] = Http("devices/{id}/tags", "Function", "get"),
        ["SetDeviceTags"] = Http("devices/{id}/tags", "Function", "put"),
        ["GetDiscoveryProfileTags"] = Http("discovery_profiles/{id}/tags", "Function", "get"),
        ["SetDiscoveryProfileTags"] = Http("discovery_profiles/{id}/tags", "Function", "put"),
        ["ListAlertRules"] = Http("alert_rules", "Function", "get"),
        ["CreateAlertRule"] = Http("alert_rules", "Function", "post"),
        ["GetAlertRule"] = Http("alert_rules/{id}", "Function", "get"),
        ["ReplaceAlertRule"] = Http("alert_rules/{id}", "Function", "put"),
        ["DeleteAlertRule"] = Http("alert_rules/{id}", "Function", "delete"),
        ["ListNotificationChannels"] = Http("notification_channels", "Function", "get"),
        ["CreateNotificationChannel"] = Http("notification_channels", "Function", "post"),
        ["GetNotificationChannel"] = Http("notification_channels/{id}", "Function", "get"),
        ["ReplaceNotificationChannel"] = Http("notification_channels/{id}", "Function", "put"),
        ["DeleteNotificationChannel"] = Http("notification_channels/{id}", "Function", "delete"),
        ["TestNotificationChannel"] = Http("notification_channels/{id}/test", "Function", "post"),
        ["ListMaintenanceWindows"] = Http("maintenance_windows", "Function", "get"),
        ["CreateMaintenanceWindow"] = Http("maintenance_windows", "Function", "post"),
        ["GetMaintenanceWindow"] = Http("maintenance_windows/{id}", "Function", "get"),
        ["ReplaceMaintenanceWindow"] = Http("maintenance_windows/{id}", "Function", "put"),
        ["DeleteMaintenanceWindow"] = Http("maintenance_windows/{id}", "Function", "delete"),
        ["ListAlerts"] = Http("alerts", "Function", "get"),
        ["GetAlert"] = Http("alerts/{id}", "Function", "get"),
        ["AcknowledgeAlert"] = Http("alerts/{id}/acknowledge", "Function", "post"),
        ["ListSilences"] = Http("silences", "Function", "get"),
        ["CreateSilence"] = Http("silences", "Function", "post"),
        ["DeleteSilence"] = Http("silences/{id}", "Function", "delete"),
        ["AlertEvaluation"] = Timer("NmsAlertingSchedule"),
        ["NotificationDelivery"] = Queue("NmsNotificationsQueue"),
        // Console (issue 13) and the reads it added.
        ["Console"] = Http("console/{*path}", "Anonymous", "get"),
        ["CurrentApiKey"] = Http("me", "Function", "get"),
        ["DiscoveryRunRecent"] = Http("discovery_runs", "Function", "get"),
        ["DeviceHealthTransitions"] = Http("device_health/transitions", "Function", "get"),
    };

    [Fact]
    public void Generated_metadata_lists_exactly_the_expected_functions()
    {
        var actual = ReadMetadata().Select(f => f.Name).Order().ToList();

        Assert.Equal(Expected.Keys.Order().ToList(), actual);
    }

    [Fact]
    public void Every_trigger_in_generated_metadata_binds_what_is_expected()
    {
        foreach (var function in ReadMetadata())
        {
            Assert.True(Expected.TryGetValue(function.Name, out var expected), $"unexpected function {function.Name}");
            Assert.Equal(expected, function.Trigger);
        }
    }

    [Fact]
    public void Local_host_discovers_the_same_functions_as_the_sdk()
    {
        var discovered = FunctionCatalog.Discover([typeof(Nms.Functions.NmsFunctionsServices).Assembly]).Select(f => f.Name).Order();

        Assert.Equal(ReadMetadata().Select(f => f.Name).Order(), discovered);
    }

    [Fact]
    public void Repository_host_json_is_read_with_the_queue_settings_it_declares()
    {
        var hostJson = HostJson.Load(Path.Combine(TestEnvironment.RepositoryRoot, "host.json"));

        Assert.Equal("api", hostJson.RoutePrefix);
        Assert.Equal(5, hostJson.Queues.MaxDequeueCount);
        Assert.Equal(16, hostJson.Queues.BatchSize);
        Assert.Equal(TimeSpan.FromSeconds(2), hostJson.Queues.MaxPollingInterval);
    }

    private static ExpectedTrigger Http(string route, string authLevel, params string[] methods) =>
        new("httpTrigger", route, authLevel, string.Join(',', methods), null);

    private static ExpectedTrigger Queue(string queueSetting) => new("queueTrigger", $"%{queueSetting}%", null, null, Storage);

    private static ExpectedTrigger Timer(string scheduleSetting) => new("timerTrigger", $"%{scheduleSetting}%", null, null, null);

    private static IEnumerable<(string Name, ExpectedTrigger Trigger)> ReadMetadata()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(MetadataPath()));
        return document.RootElement.EnumerateArray().Select(function =>
        {
            var trigger = function.GetProperty("bindings").EnumerateArray().Single(b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));
            var type = trigger.GetProperty("type").GetString()!;
            var target = type switch
            {
                "httpTrigger" => trigger.GetProperty("route").GetString(),
                "queueTrigger" => trigger.GetProperty("queueName").GetString(),
                "timerTrigger" => trigger.GetProperty("schedule").GetString(),
                _ => null,
            };
            var methods = trigger.TryGetProperty("methods", out var m) ? string.Join(',', m.EnumerateArray().Select(x => x.GetString()!.ToLowerInvariant())) : null;
            var authLevel = trigger.TryGetProperty("authLevel", out var a) ? a.GetString() : null;
            var connection = trigger.TryGetProperty("connection", out var c) ? c.GetString() : null;
            return (function.GetProperty("name").GetString()!, new ExpectedTrigger(type, target, authLevel, methods, connection));
        }).ToList();
    }

    private static string MetadataPath()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var path = Path.Combine(TestEnvironment.RepositoryRoot, "functions", "Nms.Functions", "bin", configuration, "net10.0", "functions.metadata");
        Assert.True(File.Exists(path), $"{path} is missing: the Worker SDK generates it when the functions project builds.");
        return path;
    }

    private sealed record ExpectedTrigger(string Type, string? Target, string? AuthLevel, string? Methods, string? Connection);
}
