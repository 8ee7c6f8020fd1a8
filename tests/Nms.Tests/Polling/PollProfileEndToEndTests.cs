using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Nms.Testing;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Polling;

/// <summary>
/// A poll profile through the real app: made through the API with an snmpd <c>extend</c> object, named by a discovery
/// profile, inherited by the device the run finds, and read by the scheduler's polls instead of the default set.
/// </summary>
public sealed class PollProfileEndToEndTests
{
    private const string Community = "poll-profile-community";

    // NET-SNMP-EXTEND-MIB nsExtendOutput1Line."nms-text": the first line the command printed.
    private const string TextLine = "1.3.6.1.4.1.8072.1.3.2.3.1.1.8.110.109.115.45.116.101.120.116";

    [Fact]
    public async Task A_device_found_by_a_discovery_profile_with_a_poll_profile_is_polled_for_the_profiles_custom_metric()
    {
        using var agent = await SnmpdProcess.StartAsync(new SnmpdOptions
        {
            Addresses = ["127.23.1.1"],
            Community = Community,
            ExtraConfig = ["extend nms-text /bin/echo 42.5"],
        });
        await using var app = await TestApp.StartAsync(o =>
        {
            o.EnabledTimers.Add("PollScheduler");
            o.Settings["NmsSchedulerSchedule"] = "*/1 * * * * *";
            o.Settings["Nms:Plugins:Directory"] = TestEnvironment.PluginsDirectory;
            o.Settings["Nms:Polling:TimeoutMilliseconds"] = "2000";
            o.Settings["Nms:Reachability:Mode"] = "icmp";
        });
        var pollProfile = await SnmpVariantsEndToEndTests.CreateAsync(app, "poll_profiles", new
        {
            name = "extend-text",
            scalars = new[] { new { oid = TextLine, metric = "extend_text_value", kind = "gauge" } },
        });
        var credential = await SnmpVariantsEndToEndTests.CreateAsync(app, "credential_profiles", new { name = "profile-e2e", protocol = "snmp_v2c", community = Community });
        var discovery = await SnmpVariantsEndToEndTests.CreateAsync(app, "discovery_profiles", new
        {
            name = "profile-e2e",
            target = "127.23.1.1",
            port = agent.Port,
            plugin = "snmp",
            credential_profile_ids = new[] { credential },
            timeout_ms = 2000,
            poll_interval_seconds = 10,
            poll_profile_id = pollProfile,
        });

        var run = await SnmpVariantsEndToEndTests.RunAsync(app, discovery);

        Assert.True(run.Provisioned == 1, $"{run.Responded} responded, {run.Failed} failed");
        var device = JsonDocument.Parse(await app.Client.GetStringAsync("devices?q=127.23.1.1")).RootElement.GetProperty("items")[0];
        Assert.Equal(pollProfile, device.GetProperty("poll_profile_id").GetInt64());
        var id = device.GetProperty("id").GetInt64();
        JsonElement latest = default;
        await TestApp.EventuallyAsync(async () =>
        {
            latest = JsonDocument.Parse(await app.Client.GetStringAsync($"devices/{id}/metrics/latest")).RootElement.GetProperty("metrics");
            return latest.EnumerateArray().Any(m => m.GetProperty("name").GetString() == "extend_text_value");
        }, "the device polled for the profile's metric", TimeSpan.FromSeconds(45));
        var metric = latest.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "extend_text_value");
        Assert.Equal(42.5, metric.GetProperty("value").GetDouble());
        // The profile replaces the default set: no interface counters are read.
        Assert.DoesNotContain(latest.EnumerateArray(), m => m.GetProperty("name").GetString()!.StartsWith("if_", StringComparison.Ordinal));
    }
}
