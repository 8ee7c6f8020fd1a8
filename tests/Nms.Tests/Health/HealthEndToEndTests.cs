using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Nms.Core.Credentials;
using Nms.Core.Entities;
using Nms.Core.Health;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Health;

/// <summary>
/// The whole loop on the local host with real snmpd agents: the scheduler timer and the poller
/// poll two devices; the agent behind one stops; its failed polls reach the health consumer
/// through the failures queue and deactivate it (no longer popped) while its neighbour keeps being
/// polled; an operator reactivates it (polled again); the recovery probe brings it back by itself
/// once its agent answers again. The published snmp plugin does the polling and the probing.
/// </summary>
public sealed class HealthEndToEndTests
{
    private const int Threshold = 2;

    [Fact]
    public async Task Device_whose_agent_stops_is_deactivated_reactivated_by_an_operator_and_recovered_by_the_probe()
    {
        await using var agent = await SnmpAgent.StartAsync("127.21.0.1", "flaky-agent");
        await using var neighbourAgent = await SnmpAgent.StartAsync("127.21.0.2", "steady-agent");
        await using var app = await StartAsync();
        var credential = await CommunityCredentialAsync(app);
        var device = await InsertDeviceAsync(app, agent, credential);
        var neighbour = await InsertDeviceAsync(app, neighbourAgent, credential);
        await TestApp.EventuallyAsync(async () => await MetricsAsync(app, device) > 0 && await MetricsAsync(app, neighbour) > 0, "both devices polled", TimeSpan.FromSeconds(30));

        // The agent stops: the address still answers ping, the polls fail ("poll" failures).
        await agent.StopAsync();
        await TestApp.EventuallyAsync(async () => await StatusAsync(app, device) == "inactive", $"deactivation after {Threshold} failed polls", TimeSpan.FromSeconds(45));
        Assert.Equal("poll", await app.Database.ScalarAsync<string>("SELECT deactivation_reason FROM devices WHERE id = $1", device));
        Assert.False(await ScheduledAsync(app, device));

        // Not popped again, while the neighbour keeps being polled (its interval is 10 s).
        var failuresAtDeactivation = await FailuresAsync(app, device);
        var neighbourMetrics = await MetricsAsync(app, neighbour);
        await TestApp.EventuallyAsync(async () => await MetricsAsync(app, neighbour) > neighbourMetrics, "the neighbour polled again", TimeSpan.FromSeconds(30));
        Assert.Equal(failuresAtDeactivation, await FailuresAsync(app, device));
        Assert.Equal("inactive", await StatusAsync(app, device));

        // An operator reactivates it: scheduled and polled again (and, its agent still down, deactivated again).
        await ReactivateAsync(app, device);
        Assert.True(await ScheduledAsync(app, device));
        await TestApp.EventuallyAsync(async () => await FailuresAsync(app, device) > failuresAtDeactivation, "the reactivated device polled again", TimeSpan.FromSeconds(30));
        await TestApp.EventuallyAsync(async () => await StatusAsync(app, device) == "inactive", "deactivated again while its agent is down", TimeSpan.FromSeconds(45));

        // The agent comes back: the recovery probe reactivates the device by itself and it is polled.
        var metricsBeforeRecovery = await MetricsAsync(app, device);
        await agent.StartAsync();
        await TestApp.EventuallyAsync(async () => await StatusAsync(app, device) == "active", "the recovery probe to reactivate the device", TimeSpan.FromSeconds(30));
        Assert.Contains("answered ping and snmp discovery as 'flaky-agent'",
            await app.Database.ScalarAsync<string>("SELECT reactivation_reason FROM devices WHERE id = $1", device), StringComparison.Ordinal);
        await TestApp.EventuallyAsync(async () => await MetricsAsync(app, device) > metricsBeforeRecovery, "the recovered device polled", TimeSpan.FromSeconds(30));
        Assert.Equal("active", await StatusAsync(app, neighbour));
    }

    [Fact]
    public async Task A_maintenance_window_with_suppress_deactivation_keeps_a_failing_device_active_until_it_ends()
    {
        await using var agent = await SnmpAgent.StartAsync("127.21.2.1", "patched-agent");
        await using var app = await StartAsync();
        var device = await InsertDeviceAsync(app, agent, await CommunityCredentialAsync(app));
        using (var tagged = await app.Client.PutAsJsonAsync($"devices/{device}/tags", new { tags = new[] { "change=cr-42" } }))
        {
            Assert.Equal(HttpStatusCode.OK, tagged.StatusCode);
        }

        var window = new { name = "cr-42", kind = "one_off", starts_at = DateTimeOffset.UtcNow.AddMinutes(-1), ends_at = DateTimeOffset.UtcNow.AddHours(1), scope_tags = new[] { "change=cr-42" }, suppress_deactivation = true };
        using var created = await app.Client.PostAsJsonAsync("maintenance_windows", window);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var windowId = (await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetInt64();
        await TestApp.EventuallyAsync(async () => await MetricsAsync(app, device) > 0, "the device polled", TimeSpan.FromSeconds(30));

        // The agent stops during the window: every failed poll is counted, past the threshold, and the device stays active and polled.
        await agent.StopAsync();
        await TestApp.EventuallyAsync(async () => await FailureCountAsync(app, device) >= Threshold + 2, $"{Threshold + 2} failures counted", TimeSpan.FromSeconds(60));
        Assert.Equal("active", await StatusAsync(app, device));
        Assert.True(await ScheduledAsync(app, device));
        Assert.Contains(app.Logs.Lines, line => line.Contains($"Device {device} ", StringComparison.Ordinal) && line.Contains("held by maintenance window", StringComparison.Ordinal));

        // The window is ended early (as an operator would): the next failed poll deactivates the device.
        using var ended = await app.Client.PutAsJsonAsync($"maintenance_windows/{windowId}", window with { ends_at = DateTimeOffset.UtcNow });
        Assert.Equal(HttpStatusCode.OK, ended.StatusCode);
        await TestApp.EventuallyAsync(async () => await StatusAsync(app, device) == "inactive", "deactivation once the window ended", TimeSpan.FromSeconds(45));
        Assert.Equal("poll", await app.Database.ScalarAsync<string>("SELECT deactivation_reason FROM devices WHERE id = $1", device));
        Assert.False(await ScheduledAsync(app, device));
    }

    [Fact]
    public async Task Successful_poll_clears_the_failure_count_the_health_consumer_kept()
    {
        await using var agent = await SnmpAgent.StartAsync("127.21.1.1", "steady-agent");
        await using var app = await StartAsync();
        var device = await InsertDeviceAsync(app, agent, await CommunityCredentialAsync(app));
        await TestApp.EventuallyAsync(async () => await MetricsAsync(app, device) > 0, "the device polled", TimeSpan.FromSeconds(30));

        // One failure (as from a lost poll): counted by the consumer...
        await app.SendAsync(app.Queues.Failures, new FailureEvent(Guid.NewGuid(), device, FailureEvent.PollReason, "one lost reply", DateTimeOffset.UtcNow));
        await TestApp.EventuallyAsync(async () => await FailureCountAsync(app, device) == 1, "the failure counted", TimeSpan.FromSeconds(15));

        // ...and cleared by the poller at the next successful poll (interval 10 s).
        await TestApp.EventuallyAsync(async () => await FailureCountAsync(app, device) == 0, "the count cleared by a successful poll", TimeSpan.FromSeconds(30));
        Assert.Equal("active", await StatusAsync(app, device));
    }

    private static Task<TestApp> StartAsync() => TestApp.StartAsync(o =>
        {
            o.EnabledTimers.Add("PollScheduler");
            o.EnabledTimers.Add("HealthRecoveryProbe");
            o.Settings["NmsSchedulerSchedule"] = "*/1 * * * * *";
            o.Settings["NmsRecoverySchedule"] = "*/1 * * * * *";
            o.Settings["Nms:Plugins:Directory"] = TestEnvironment.PluginsDirectory;
            o.Settings["Nms:Plugins:RunTimeoutSeconds"] = "5";
            o.Settings["Nms:Polling:TimeoutMilliseconds"] = "500";
            o.Settings["Nms:Reachability:Mode"] = "icmp";
            o.Settings["Nms:Reachability:TimeoutMilliseconds"] = "300";
            o.Settings["Nms:Reachability:Retries"] = "0";
            o.Settings["Nms:Health:Threshold"] = $"{Threshold}";
            o.Settings["Nms:Health:WindowSeconds"] = "60";
            o.Settings["Nms:Health:RecoveryProbeEnabled"] = "true";
            o.Settings["Nms:Health:RecoveryBackoffBaseSeconds"] = "1";
            o.Settings["Nms:Health:RecoveryBackoffCapSeconds"] = "2";
        });

    /// <summary>An snmp_v2c credential profile with the agents' community, sealed with the app's own key.</summary>
    private static async Task<long> CommunityCredentialAsync(TestApp app)
    {
        var sealedSecret = app.Services.GetRequiredService<CredentialReader>().Seal(new CredentialSecretFields(Community: SnmpAgent.Community));
        return await app.Database.ScalarAsync<long>("""
            INSERT INTO credential_profiles (name, protocol, settings, secret_ciphertext, secret_key_id, created_at, updated_at)
            VALUES ('e2e-public', 'snmp_v2c', '{}', $1, $2, now(), now()) RETURNING id
            """, sealedSecret.Ciphertext, sealedSecret.KeyId);
    }

    private static Task<long> InsertDeviceAsync(TestApp app, SnmpAgent agent, long credential) =>
        app.Database.DataSource.AddDeviceAsync(agent.Ip, agent.Port, "snmp", dueAt: DateTimeOffset.UtcNow, intervalSeconds: 10, credentialId: credential);

    private static async Task ReactivateAsync(TestApp app, long device)
    {
        using var response = await app.Client.PatchAsJsonAsync($"devices/{device}", new { status = "active" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static Task<string> StatusAsync(TestApp app, long device) =>
        app.Database.ScalarAsync<string>("SELECT status FROM devices WHERE id = $1", device);

    private static Task<bool> ScheduledAsync(TestApp app, long device) =>
        app.Database.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM poll_schedule WHERE device_id = $1)", device);

    private static Task<long> MetricsAsync(TestApp app, long device) =>
        app.Database.ScalarAsync<long>("SELECT count(*) FROM metric_samples WHERE device_id = $1", device);

    private static Task<int> FailureCountAsync(TestApp app, long device) =>
        app.Database.ScalarAsync<int>("SELECT failure_count FROM devices WHERE id = $1", device);

    private static Task<long> FailuresAsync(TestApp app, long device) =>
        app.Database.ScalarAsync<long>("SELECT count(*) FROM failure_events WHERE device_id = $1", device);
}
