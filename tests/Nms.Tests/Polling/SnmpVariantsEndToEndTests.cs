using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Nms.Core.Discovery;
using Nms.Testing;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Polling;

/// <summary>
/// SNMPv1 and two SNMPv3 extremes (MD5 + DES, SHA-512 + AES-256) through the real app: credential and discovery
/// profiles made through the API, a discovery run on the queue, the provisioned devices polled by the scheduler and
/// the published snmp plugin, their metrics read back through the metrics API. The full auth × priv matrix runs
/// against the plugin executable in Nms.Plugins.Tests (SnmpMatrixTests); this is the subset through the app.
/// </summary>
public sealed class SnmpVariantsEndToEndTests
{
    private const string Community = "variants-community";
    private static readonly SnmpV3User Md5Des = new("e2e-md5-des", "MD5", "e2e-md5-auth", "DES", "e2e-des-priv");
    private static readonly SnmpV3User Sha512Aes256 = new("e2e-sha512-aes256", "SHA-512", "e2e-sha512-auth", "AES-256", "e2e-aes256-priv");

    [Fact]
    public async Task V1_md5_des_and_sha512_aes256_devices_are_discovered_and_polled_through_the_app()
    {
        using var agent = await SnmpdProcess.StartAsync(new SnmpdOptions
        {
            Addresses = ["127.23.0.1", "127.23.0.2", "127.23.0.3"],
            Community = Community,
            SysName = "variants-agent",
            Users = [Md5Des, Sha512Aes256],
        });
        await using var app = await StartAppAsync();

        var variants = new (string Ip, object Credential, bool Counter32)[]
        {
            ("127.23.0.1", new { name = "e2e-v1", protocol = "snmp_v1", community = Community }, true),
            ("127.23.0.2", new { name = "e2e-md5-des", protocol = "snmp_v3", user = Md5Des.Name, auth_protocol = "md5", auth_key = Md5Des.AuthPassword, priv_protocol = "des", priv_key = Md5Des.PrivPassword }, false),
            ("127.23.0.3", new { name = "e2e-sha512-aes256", protocol = "snmp_v3", user = Sha512Aes256.Name, auth_protocol = "sha512", auth_key = Sha512Aes256.AuthPassword, priv_protocol = "aes256", priv_key = Sha512Aes256.PrivPassword }, false),
        };

        var devices = new List<(long Id, string Ip)>();
        foreach (var (ip, credential, _) in variants)
        {
            var run = await DiscoverAsync(app, ip, agent.Port, await CreateAsync(app, "credential_profiles", credential), timeoutMs: 2000);
            Assert.True(run.Provisioned == 1, $"{ip}: {run.Responded} responded, {run.Failed} failed");
            devices.Add((await app.Database.ScalarAsync<long>("SELECT id FROM devices WHERE ip = $1::inet", ip), ip));
        }

        foreach (var (id, ip) in devices)
        {
            JsonElement latest = default;
            await TestApp.EventuallyAsync(async () =>
            {
                latest = JsonDocument.Parse(await app.Client.GetStringAsync($"devices/{id}/metrics/latest")).RootElement.GetProperty("metrics");
                return latest.EnumerateArray().Any(m => m.GetProperty("name").GetString() == "if_in_octets_total");
            }, $"{ip} polled", TimeSpan.FromSeconds(45));
            var names = latest.EnumerateArray().Select(m => m.GetProperty("name").GetString()).ToHashSet();
            Assert.Superset(new HashSet<string?> { "sys_uptime_seconds", "if_admin_status", "if_oper_status", "if_speed_bits", "if_in_unicast_packets_total", "memory_total_bytes", "load_1m" }, names);
        }
    }

    [Fact]
    public async Task Ipv6_devices_on_lo_are_discovered_from_a_range_and_polled_over_udp6()
    {
        string[] live = ["fd15:15::a1", "fd15:15::a2"];
        await using var addresses = await LoopbackIpv6.AddAsync(live);
        using var agent = await SnmpdProcess.StartAsync(new SnmpdOptions { Addresses = live, Community = Community, SysName = "variants-agent6" });
        await using var app = await StartAppAsync();
        var credentialId = await CreateAsync(app, "credential_profiles", new { name = "e2e-v6", protocol = "snmp_v2c", community = Community });

        var run = await DiscoverAsync(app, "fd15:15::a1-fd15:15::a3", agent.Port, credentialId, timeoutMs: 1000);

        Assert.Equal((3, 2, 1), (run.Targets, run.Provisioned, run.Failed));
        foreach (var ip in live)
        {
            var id = await app.Database.ScalarAsync<long>("SELECT id FROM devices WHERE ip = $1::inet", ip);
            await TestApp.EventuallyAsync(async () =>
                JsonDocument.Parse(await app.Client.GetStringAsync($"devices/{id}/metrics/latest")).RootElement.GetProperty("metrics")
                    .EnumerateArray().Any(m => m.GetProperty("name").GetString() == "if_in_octets_total"), $"{ip} polled", TimeSpan.FromSeconds(45));
        }
    }

    private static Task<TestApp> StartAppAsync() => TestApp.StartAsync(o =>
    {
        o.EnabledTimers.Add("PollScheduler");
        o.Settings["NmsSchedulerSchedule"] = "*/1 * * * * *";
        o.Settings["Nms:Plugins:Directory"] = TestEnvironment.PluginsDirectory;
        o.Settings["Nms:Polling:TimeoutMilliseconds"] = "2000";
        o.Settings["Nms:Reachability:Mode"] = "icmp";
    });

    /// <summary>A discovery profile for the target through the API, run to completion; its devices poll every 10 s.</summary>
    private static async Task<DiscoveryRunView> DiscoverAsync(TestApp app, string target, int port, long credentialId, int timeoutMs)
    {
        var profileId = await CreateAsync(app, "discovery_profiles", new
        {
            name = $"e2e-{target}",
            target,
            port,
            plugin = "snmp",
            credential_profile_ids = new[] { credentialId },
            timeout_ms = timeoutMs,
            poll_interval_seconds = 10,
        });
        return await RunAsync(app, profileId);
    }

    internal static async Task<long> CreateAsync(TestApp app, string collection, object body)
    {
        using var response = await app.Client.PostAsJsonAsync(collection, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{collection}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetInt64();
    }

    /// <summary>Runs a discovery profile and waits for the run to complete.</summary>
    internal static async Task<DiscoveryRunView> RunAsync(TestApp app, long profileId)
    {
        using var started = await app.Client.PostAsync($"discovery_profiles/{profileId}/run", null);
        var runId = JsonSerializer.Deserialize<DiscoveryRunView>(await started.Content.ReadAsStringAsync(), TestApp.Json)!.Id;
        DiscoveryRunView run = null!;
        await TestApp.EventuallyAsync(async () =>
        {
            run = JsonSerializer.Deserialize<DiscoveryRunView>(await app.Client.GetStringAsync($"discovery_runs/{runId}"), TestApp.Json)!;
            return run.Status == "completed";
        }, $"discovery run {runId}", TimeSpan.FromSeconds(60));
        return run;
    }
}
