using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Nms.Core.Configuration;
using Nms.Core.Credentials;
using Nms.Core.Entities;
using Nms.Core.Health;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Polling;

/// <summary>
/// Flow 2 end to end on the local host: the scheduler timer pops due devices, the poller queue trigger
/// pings and polls them, the writer queue trigger copies the results into <c>metrics</c>.
/// </summary>
public sealed class PollingPipelineTests : IDisposable
{
    private readonly FakePlugins plugins = new();

    public void Dispose() => plugins.Dispose();

    private Task<TestApp> StartAsync(string mode = "icmp") => TestApp.StartAsync(o =>
    {
        o.EnabledTimers.Add("PollScheduler");
        o.Settings["NmsSchedulerSchedule"] = "*/1 * * * * *";
        o.Settings["Nms:Plugins:Directory"] = plugins.Directory;
        o.Settings["Nms:Plugins:RunTimeoutSeconds"] = "5";
        o.Settings["Nms:Reachability:Mode"] = mode;
        o.Settings["Nms:Reachability:TimeoutMilliseconds"] = "300";
        o.Settings["Nms:Reachability:Retries"] = "0";
    });

    private static Task<long> InsertDeviceAsync(TestApp app, string ip, int port, string plugin, long? credentialId = null) =>
        app.Database.DataSource.AddDeviceAsync(ip, port, plugin, dueAt: DateTimeOffset.UtcNow, intervalSeconds: 10, credentialId: credentialId);

    /// <summary>A failure event for the device, on the failures queue or already taken by the health consumer.</summary>
    private static async Task<bool> HasFailureAsync(TestApp app, long deviceId, string reason)
    {
        if (await app.Database.ScalarAsync<long>("SELECT count(*) FROM failure_events WHERE device_id = $1 AND reason = $2", deviceId, reason) > 0)
        {
            return true;
        }

        var peeked = await app.Queue(app.Queues.Failures).PeekMessagesAsync(32);
        return peeked.Value
            .SelectMany(m => JsonSerializer.Deserialize<FailureBatchMessage>(m.Body.ToArray(), NmsJson.Queue)!.Events)
            .Any(f => f.DeviceId == deviceId && f.Reason == reason);
    }

    [Fact]
    public async Task Due_devices_are_polled_and_their_metrics_written_within_a_few_ticks()
    {
        plugins.AddEcho("echo");
        using var blackhole = new IcmpBlackhole();
        await using var app = await StartAsync();
        var devices = new[]
        {
            await InsertDeviceAsync(app, "127.0.0.1", 161, "echo"),
            await InsertDeviceAsync(app, "127.0.0.2", 1161, "echo"),
        };
        var silent = await InsertDeviceAsync(app, blackhole.Address(3), 161, "echo");

        await TestApp.EventuallyAsync(
            async () => await app.Database.ScalarAsync<long>("SELECT count(DISTINCT h.device_id) FROM metric_samples h JOIN metric_series s ON s.device_id = h.device_id AND s.id = h.series_id WHERE s.name = 'port'") == 2,
            "metrics rows for both reachable devices", TimeSpan.FromSeconds(20));

        Assert.Equal(1161.0, await app.Database.ScalarAsync<double>("SELECT h.value FROM metric_samples h JOIN metric_series s ON s.device_id = h.device_id AND s.id = h.series_id WHERE h.device_id = $1 AND s.name = 'port' LIMIT 1", devices[1]));
        Assert.Equal(0L, await app.Database.ScalarAsync<long>("SELECT count(*) FROM metric_samples WHERE device_id = $1", silent));
        await TestApp.EventuallyAsync(() => HasFailureAsync(app, silent, FailureEvent.PingReason), "a ping failure for the silent device", TimeSpan.FromSeconds(20));
        Assert.True(await app.Database.ScalarAsync<DateTime>("SELECT next_due_at FROM poll_schedule WHERE device_id = $1", devices[0]) > DateTime.UtcNow.AddSeconds(-1));
    }

    [Fact]
    public async Task Devices_polled_with_the_snmp_plugin_get_the_values_snmpd_reports()
    {
        using var agent = new SnmpAgent();
        await using var app = await TestApp.StartAsync(o =>
        {
            o.EnabledTimers.Add("PollScheduler");
            o.Settings["NmsSchedulerSchedule"] = "*/1 * * * * *";
            o.Settings["Nms:Reachability:TimeoutMilliseconds"] = "300";
            o.Settings["Nms:Reachability:Retries"] = "0";
        });
        var secret = app.Services.GetRequiredService<CredentialReader>().Seal(new CredentialSecretFields(Community: "public"));
        var credential = await app.Database.ScalarAsync<long>(
            "INSERT INTO credential_profiles (name, protocol, secret_ciphertext, secret_key_id, created_at, updated_at) VALUES ('public', 'snmp_v2c', $1, $2, now(), now()) RETURNING id",
            secret.Ciphertext, secret.KeyId);
        var device = await InsertDeviceAsync(app, "127.0.3.7", agent.Port, "snmp", credential);

        await TestApp.EventuallyAsync(
            async () => await app.Database.ScalarAsync<long>("SELECT count(*) FROM metric_samples h JOIN metric_series s ON s.device_id = h.device_id AND s.id = h.series_id WHERE h.device_id = $1 AND s.name = 'if_oper_status'", device) > 0,
            "if_oper_status rows from the snmp plugin", TimeSpan.FromSeconds(30));

        var reported = await agent.WalkAsync("127.0.3.7", "1.3.6.1.2.1.2.2.1.8"); // IF-MIB::ifOperStatus
        Assert.NotEmpty(reported);
        foreach (var (index, status) in reported)
        {
            Assert.Equal(status, await app.Database.ScalarAsync<double>(
                "SELECT h.value FROM metric_samples h JOIN metric_series s ON s.device_id = h.device_id AND s.id = h.series_id WHERE h.device_id = $1 AND s.name = 'if_oper_status' AND s.labels->>'if_index' = $2 ORDER BY h.ts DESC LIMIT 1", device, index));
        }
    }

    [Fact]
    public async Task In_tcp_mode_a_device_whose_port_has_nothing_listening_gets_a_ping_failure()
    {
        plugins.AddEcho("ssh");
        await using var app = await StartAsync("tcp");
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var open = await InsertDeviceAsync(app, "127.0.0.1", ((System.Net.IPEndPoint)listener.LocalEndpoint).Port, "ssh");
        var closedPort = FreePort();
        var closed = await InsertDeviceAsync(app, "127.0.0.1", closedPort, "ssh");

        await TestApp.EventuallyAsync(() => HasFailureAsync(app, closed, FailureEvent.PingReason), "a ping failure for the closed port", TimeSpan.FromSeconds(20));
        await TestApp.EventuallyAsync(
            async () => await app.Database.ScalarAsync<long>("SELECT count(*) FROM metric_samples WHERE device_id = $1", open) > 0,
            "metrics for the open port", TimeSpan.FromSeconds(20));
    }

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }
}
