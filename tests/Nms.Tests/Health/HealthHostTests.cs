using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Nms.Core.Health;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Health;

/// <summary>
/// The health feature as the running app meets it: failure events through the failures queue on
/// the local host, the recovery probe on its timer with a real plugin process and real ping, and
/// GET /api/device_health over HTTP.
/// </summary>
public sealed class HealthHostTests
{
    private static Task<long> AddDeviceAsync(TestDatabase database, string ip, string plugin = "snmp", int port = 161) =>
        database.DataSource.AddDeviceAsync(ip, port, plugin, dueAt: DateTimeOffset.UtcNow.AddHours(1));

    private static Task<string> StatusAsync(TestDatabase database, long id) =>
        database.ScalarAsync<string>("SELECT status FROM devices WHERE id = $1", id);

    private static Task<bool> ScheduledAsync(TestDatabase database, long id) =>
        database.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM poll_schedule WHERE device_id = $1)", id);

    private static FailureEvent Failure(long deviceId, TimeSpan ago, string reason = FailureEvent.PingReason) =>
        new(Guid.NewGuid(), deviceId, reason, reason == FailureEvent.PingReason ? "no reply to ping" : "snmp timeout", DateTimeOffset.UtcNow - ago);

    [Fact]
    public async Task Threshold_failure_events_on_the_queue_deactivate_the_device_and_leave_its_neighbour_scheduled()
    {
        await using var app = await TestApp.StartAsync(o => o.Settings["Nms:Health:Threshold"] = "3");
        var device = await AddDeviceAsync(app.Database, "127.20.0.1");
        var neighbour = await AddDeviceAsync(app.Database, "127.20.0.2");

        // Sent newest first: the consumer must not depend on queue order.
        foreach (var seconds in new[] { 1, 20, 40 })
        {
            await app.SendAsync(app.Queues.Failures, Failure(device, TimeSpan.FromSeconds(seconds)));
        }

        await app.SendAsync(app.Queues.Failures, Failure(neighbour, TimeSpan.FromSeconds(5), FailureEvent.PollReason));

        await TestApp.EventuallyAsync(async () => await StatusAsync(app.Database, device) == "inactive", "the device to be deactivated");
        Assert.False(await ScheduledAsync(app.Database, device));
        Assert.Equal("ping", await app.Database.ScalarAsync<string>("SELECT deactivation_reason FROM devices WHERE id = $1", device));
        await TestApp.EventuallyAsync(async () => await app.Database.ScalarAsync<int>("SELECT failure_count FROM devices WHERE id = $1", neighbour) == 1, "the neighbour's failure counted");
        Assert.Equal("active", await StatusAsync(app.Database, neighbour));
        Assert.True(await ScheduledAsync(app.Database, neighbour));
        Assert.Single(app.Logs.Lines, line => line.Contains($"Device {device} (127.20.0.1:161) deactivated", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Deactivation_shows_in_the_device_api_and_an_operator_patch_brings_the_device_back()
    {
        await using var app = await TestApp.StartAsync(o => o.Settings["Nms:Health:Threshold"] = "2");
        var device = await AddDeviceAsync(app.Database, "127.20.5.1");
        await app.SendAsync(app.Queues.Failures, Failure(device, TimeSpan.FromSeconds(20), FailureEvent.PollReason));
        await app.SendAsync(app.Queues.Failures, Failure(device, TimeSpan.FromSeconds(10), FailureEvent.PollReason));
        await TestApp.EventuallyAsync(async () => await StatusAsync(app.Database, device) == "inactive", "the device to be deactivated");

        var shown = await app.Client.GetFromJsonAsync<JsonElement>($"devices/{device}");
        Assert.Equal(("inactive", "poll", "snmp timeout", 2), (shown.GetProperty("status").GetString(), shown.GetProperty("deactivation_reason").GetString(),
            shown.GetProperty("last_failure_error").GetString(), shown.GetProperty("failure_count").GetInt32()));

        using var patched = await app.Client.PatchAsJsonAsync($"devices/{device}", new { status = "active" });

        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal("active", await StatusAsync(app.Database, device));
        Assert.True(await ScheduledAsync(app.Database, device));
        await app.SendAsync(app.Queues.Failures, Failure(device, TimeSpan.Zero, FailureEvent.PollReason));
        await TestApp.EventuallyAsync(async () => await app.Database.ScalarAsync<int>("SELECT failure_count FROM devices WHERE id = $1", device) == 1, "a fresh count after reactivation");
        Assert.Equal("active", await StatusAsync(app.Database, device));
    }

    [Fact]
    public async Task Failures_from_before_an_operator_reactivation_do_not_count_against_the_device()
    {
        await using var app = await TestApp.StartAsync(o => o.Settings["Nms:Health:Threshold"] = "3");
        var device = await AddDeviceAsync(app.Database, "127.20.6.1");
        foreach (var seconds in new[] { 50, 45, 40 })
        {
            await app.SendAsync(app.Queues.Failures, Failure(device, TimeSpan.FromSeconds(seconds), FailureEvent.PollReason));
        }

        await TestApp.EventuallyAsync(async () => await StatusAsync(app.Database, device) == "inactive", "three poll failures to deactivate the device");

        // The agent is back; an operator reactivates the device over the API with an operator key.
        using var operatorClient = await ClientWithRoleAsync(app, "operator");
        var patchedAt = DateTimeOffset.UtcNow;
        using var patched = await operatorClient.PatchAsJsonAsync($"devices/{device}", new { status = "active" });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);

        // Failures of the outage that ended, still on the queue (or redelivered), arrive after the PATCH.
        var stale = new[] { 25, 20, 15 }
            .Select(seconds => new FailureEvent(Guid.NewGuid(), device, FailureEvent.PollReason, "snmp timeout", patchedAt - TimeSpan.FromSeconds(seconds)))
            .ToList();
        foreach (var failure in stale)
        {
            await app.SendAsync(app.Queues.Failures, failure);
        }

        // The consumer records every event id it has decided on, in the transaction of its decision.
        await TestApp.EventuallyAsync(
            async () => await app.Database.ScalarAsync<long>("SELECT count(*) FROM failure_events WHERE event_id = ANY($1)", stale.Select(f => f.EventId).ToArray()) == stale.Count,
            "the consumer to process the three stale failures");
        Assert.Equal("active", await StatusAsync(app.Database, device));
        Assert.True(await ScheduledAsync(app.Database, device));
        Assert.Equal(0, await app.Database.ScalarAsync<int>("SELECT failure_count FROM devices WHERE id = $1", device));
    }

    private static async Task<HttpClient> ClientWithRoleAsync(TestApp app, string role)
    {
        using var created = await app.Client.PostAsJsonAsync("api_keys", new { name = $"health-{role}", role });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return app.CreateClient((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
    }

    [Fact]
    public async Task Redelivered_failure_event_on_the_queue_is_counted_once()
    {
        await using var app = await TestApp.StartAsync();
        var device = await AddDeviceAsync(app.Database, "127.20.1.1");
        var failure = Failure(device, TimeSpan.FromSeconds(1));

        await app.SendAsync(app.Queues.Failures, failure);
        await app.SendAsync(app.Queues.Failures, failure);

        await TestApp.EventuallyAsync(
            () => Task.FromResult(app.Logs.Lines.Any(line => line.Contains($"{failure.EventId}", StringComparison.Ordinal) && line.Contains(nameof(FailureOutcome.Duplicate), StringComparison.Ordinal))),
            "the second delivery to be recognised as a duplicate");
        Assert.Equal(1, await app.Database.ScalarAsync<int>("SELECT failure_count FROM devices WHERE id = $1", device));
        Assert.Empty((await app.Queue(app.Queues.Failures + "-poison").PeekMessagesAsync(1)).Value);
    }

    [Fact]
    public async Task Failure_event_for_a_deleted_device_is_consumed_quietly()
    {
        await using var app = await TestApp.StartAsync();
        var device = await AddDeviceAsync(app.Database, "127.20.2.1");
        await app.Database.DataSource.DeleteDeviceAsync(device);
        var failure = Failure(device, TimeSpan.Zero);

        await app.SendAsync(app.Queues.Failures, failure);

        // The consumer's own evidence: its log line for the event it dropped.
        await TestApp.EventuallyAsync(
            () => Task.FromResult(app.Logs.Lines.Any(line => line.Contains($"Failure event {failure.EventId} for device {device} dropped: {FailureOutcome.UnknownDevice}", StringComparison.Ordinal))),
            "the event to be consumed");
        Assert.Empty((await app.Queue(app.Queues.Failures + "-poison").PeekMessagesAsync(1)).Value);
        Assert.DoesNotContain(app.Logs.Lines, line => line.StartsWith("Error", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Device_health_route_counts_devices_and_lists_the_latest_deactivations()
    {
        await using var app = await TestApp.StartAsync(o => o.Settings["Nms:Health:Threshold"] = "1");
        var down = await AddDeviceAsync(app.Database, "127.20.3.1");
        await AddDeviceAsync(app.Database, "127.20.3.2");
        await AddDeviceAsync(app.Database, "127.20.3.3");
        await app.SendAsync(app.Queues.Failures, Failure(down, TimeSpan.Zero, FailureEvent.PollReason));
        await TestApp.EventuallyAsync(async () => await StatusAsync(app.Database, down) == "inactive", "the device to be deactivated");

        using var reader = await ClientWithRoleAsync(app, "reader");
        using var response = await reader.GetAsync("device_health?limit=5");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = body.RootElement;
        Assert.Equal((2, 1, 1), (root.GetProperty("active").GetInt32(), root.GetProperty("inactive").GetInt32(), root.GetProperty("threshold").GetInt32()));
        Assert.False(root.GetProperty("recovery_probe_enabled").GetBoolean());
        var latest = Assert.Single(root.GetProperty("latest_deactivations").EnumerateArray());
        Assert.Equal(down, latest.GetProperty("device_id").GetInt64());
        Assert.Equal(("127.20.3.1", "inactive", "poll", "snmp timeout"), (latest.GetProperty("ip").GetString(), latest.GetProperty("status").GetString(), latest.GetProperty("reason").GetString(), latest.GetProperty("error").GetString()));
        Assert.Empty(root.GetProperty("latest_reactivations").EnumerateArray());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("101")]
    [InlineData("ten")]
    public async Task Device_health_route_rejects_a_limit_outside_1_to_100(string limit)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.Client.GetAsync($"device_health?limit={limit}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("limit", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
    }

    [Fact]
    public async Task Device_health_route_needs_an_api_key()
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.Anonymous.GetAsync("device_health");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Recovery_probe_on_its_timer_reactivates_a_device_once_its_plugin_answers_again()
    {
        const string probePlugin = "fakeprobe";
        using var plugins = new FakePlugins();
        plugins.AddSwitchable(probePlugin);
        await using var app = await TestApp.StartAsync(o =>
        {
            o.Settings["AzureWebJobs.HealthRecoveryProbe.Disabled"] = "false";
            o.Settings["NmsRecoverySchedule"] = "*/1 * * * * *";
            o.Settings["Nms:Health:RecoveryProbeEnabled"] = "true";
            o.Settings["Nms:Health:RecoveryBackoffBaseSeconds"] = "1";
            o.Settings["Nms:Health:RecoveryBackoffCapSeconds"] = "1";
            o.Settings["Nms:Health:Threshold"] = "1";
            o.Settings["Nms:Plugins:Directory"] = plugins.Directory;
        });
        var device = await AddDeviceAsync(app.Database, "127.20.4.1", probePlugin);
        var neverAnswers = await AddDeviceAsync(app.Database, "127.20.4.2", "missing-plugin");
        await app.SendAsync(app.Queues.Failures, Failure(device, TimeSpan.Zero));
        await app.SendAsync(app.Queues.Failures, Failure(neverAnswers, TimeSpan.Zero));
        await TestApp.EventuallyAsync(async () => await StatusAsync(app.Database, device) == "inactive" && await StatusAsync(app.Database, neverAnswers) == "inactive", "both devices to be deactivated");

        // Agent still down: probed (ping answers on 127/8, the plugin does not) and left inactive.
        await TestApp.EventuallyAsync(async () => await app.Database.ScalarAsync<int>("SELECT recovery_attempts FROM devices WHERE id = $1", device) >= 2, "two failed probes", TimeSpan.FromSeconds(20));
        Assert.Equal("inactive", await StatusAsync(app.Database, device));
        Assert.Contains("agent down", await app.Database.ScalarAsync<string>("SELECT recovery_last_error FROM devices WHERE id = $1", device), StringComparison.Ordinal);

        plugins.BringUp();

        await TestApp.EventuallyAsync(async () => await StatusAsync(app.Database, device) == "active", "the device to be reactivated by the probe", TimeSpan.FromSeconds(20));
        Assert.True(await ScheduledAsync(app.Database, device));
        Assert.Contains($"{probePlugin} discovery", await app.Database.ScalarAsync<string>("SELECT reactivation_reason FROM devices WHERE id = $1", device), StringComparison.Ordinal);
        Assert.Equal("inactive", await StatusAsync(app.Database, neverAnswers));
        Assert.False(await ScheduledAsync(app.Database, neverAnswers));

        var response = await app.Client.GetFromJsonAsync<JsonElement>("device_health");
        Assert.Equal(device, Assert.Single(response.GetProperty("latest_reactivations").EnumerateArray()).GetProperty("device_id").GetInt64());
    }
}
