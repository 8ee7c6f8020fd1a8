using Nms.Plugins.Sdk;
using Nms.Plugins.Snmp.Codec;
using Xunit;
using static Nms.Testing.MiniAgent;

namespace Nms.Plugins.Tests;

public sealed class SnmpPollMappingTests
{
    [Fact]
    public async Task Poll_maps_processors_storage_and_unnamed_interfaces()
    {
        using var agent = new MiniAgent(
        [
            ("1.3.6.1.2.1.1.3.0", Ticks(12345)),
            ("1.3.6.1.2.1.2.2.1.8.1", Int(1)),
            ("1.3.6.1.2.1.2.2.1.8.7", Int(2)),
            ("1.3.6.1.2.1.2.2.1.14.1", Counter32(3)),
            ("1.3.6.1.2.1.2.2.1.14.7", Counter32(4)),
            ("1.3.6.1.2.1.25.2.3.1.3.31", Text("/var")),
            ("1.3.6.1.2.1.25.2.3.1.4.31", Int(4096)),
            ("1.3.6.1.2.1.25.2.3.1.5.31", Int(1000)),
            ("1.3.6.1.2.1.25.2.3.1.6.31", Int(250)),
            ("1.3.6.1.2.1.25.3.3.1.2.196608", Int(17)),
            ("1.3.6.1.2.1.25.3.3.1.2.196609", Int(83)),
            ("1.3.6.1.2.1.31.1.1.1.1.1", Text("eth0")),
            ("1.3.6.1.2.1.31.1.1.1.6.1", Counter64(5_000_000_000)),
        ]);
        var run = await Plugins.RunAsync("snmp", "poll", Plugins.Request("poll", 2000,
            new PluginTarget("dev", "127.0.0.1", agent.Port, Credential: new PluginCredential(1, Protocols.SnmpV2c, Community: "any"))));
        Expect.Ran(run);
        var result = run.Result("dev");
        Assert.True(result.Success, result.Error);
        var metrics = result.Metrics!;
        Assert.Equal(123.45, metrics.Single(m => m.Name == "sys_uptime_seconds").Value);
        Assert.Equal([17.0, 83.0], metrics.Where(m => m.Name == "cpu_load_percent").OrderBy(m => m.Labels!["cpu"], StringComparer.Ordinal).Select(m => m.Value));
        Assert.Equal(4096.0 * 1000, metrics.Single(m => m.Name == "storage_size_bytes" && m.Labels!["storage"] == "/var").Value);
        Assert.Equal(4096.0 * 250, metrics.Single(m => m.Name == "storage_used_bytes" && m.Labels!["storage"] == "/var").Value);
        Assert.Equal(5_000_000_000, metrics.Single(m => m.Name == "if_in_octets_total" && m.Labels!["interface"] == "eth0").Value);
        Assert.Equal(2, metrics.Single(m => m.Name == "if_oper_status" && m.Labels!["interface"] == "if7").Value);
        Assert.Equal(4, metrics.Single(m => m.Name == "if_in_errors_total" && m.Labels!["if_index"] == "7").Value);
        Assert.DoesNotContain(metrics, m => m.Name == "if_out_octets_total");
    }

    [Fact]
    public async Task V1_poll_walks_with_getnext_reads_32_bit_counters_and_survives_an_early_end_of_mib()
    {
        // The MIB ends inside ifXTable (no HOST-RESOURCES, no UCD): each GETNEXT past it is noSuchName.
        using var agent = new MiniAgent(
        [
            ("1.3.6.1.2.1.1.3.0", Ticks(500)),
            ("1.3.6.1.2.1.2.2.1.5.1", Gauge32(uint.MaxValue)),
            ("1.3.6.1.2.1.2.2.1.7.1", Int(1)),
            ("1.3.6.1.2.1.2.2.1.8.1", Int(2)),
            ("1.3.6.1.2.1.2.2.1.10.1", Counter32(4_000_000_000)),
            ("1.3.6.1.2.1.2.2.1.11.1", Counter32(77)),
            ("1.3.6.1.2.1.2.2.1.16.1", Counter32(12)),
            ("1.3.6.1.2.1.31.1.1.1.1.1", Text("ge-0/0/1")),
            ("1.3.6.1.2.1.31.1.1.1.6.1", Counter64(9_000_000_000)),
            ("1.3.6.1.2.1.31.1.1.1.15.1", Gauge32(10_000)),
            ("1.3.6.1.2.1.31.1.1.1.18.1", Text("uplink to core")),
        ]);
        var run = await Plugins.RunAsync("snmp", "poll", Plugins.Request("poll", 2000,
            new PluginTarget("dev", "127.0.0.1", agent.Port, Credential: new PluginCredential(1, Protocols.SnmpV1, Community: "any"))));
        Expect.Ran(run);
        var result = run.Result("dev");
        Assert.True(result.Success, result.Error);
        Assert.DoesNotContain(PduType.GetBulk, agent.Requests);
        // The GET of sysUpTime and nine absent UCD objects costs two GETNEXTs (one ends at the MIB's end), not ten GETs.
        Assert.DoesNotContain(PduType.Get, agent.Requests);
        var metrics = result.Metrics!;
        var octets = metrics.Single(m => m.Name == "if_in_octets_total");
        Assert.Equal((4_000_000_000.0, "counter", 32), (octets.Value, octets.Kind, octets.CounterBits));
        Assert.Equal(new Dictionary<string, string> { ["interface"] = "ge-0/0/1", ["if_index"] = "1", ["alias"] = "uplink to core" }, octets.Labels);
        Assert.Equal(77, metrics.Single(m => m.Name == "if_in_unicast_packets_total").Value);
        Assert.Equal(12, metrics.Single(m => m.Name == "if_out_octets_total").Value);
        Assert.Equal(1, metrics.Single(m => m.Name == "if_admin_status").Value);
        Assert.Equal(2, metrics.Single(m => m.Name == "if_oper_status").Value);
        // ifSpeed saturates at 2^32-1: the speed comes from ifHighSpeed (Mbit/s).
        Assert.Equal(10_000_000_000, metrics.Single(m => m.Name == "if_speed_bits").Value);
        Assert.Equal(5, metrics.Single(m => m.Name == "sys_uptime_seconds").Value);
        Assert.DoesNotContain(metrics, m => m.Name.StartsWith("memory_", StringComparison.Ordinal) || m.Name == "storage_size_bytes");
    }

    [Fact]
    public async Task V2c_poll_prefers_64_bit_counters_and_falls_back_per_interface()
    {
        using var agent = new MiniAgent(
        [
            ("1.3.6.1.2.1.1.3.0", Ticks(500)),
            ("1.3.6.1.2.1.2.2.1.5.1", Gauge32(100_000_000)),
            ("1.3.6.1.2.1.2.2.1.10.1", Counter32(1)),
            ("1.3.6.1.2.1.2.2.1.10.2", Counter32(2)),
            ("1.3.6.1.2.1.31.1.1.1.6.1", Counter64(10_000_000_000)),
            ("1.3.6.1.4.1.2021.4.5.0", Int(2048)),
            ("1.3.6.1.4.1.2021.4.6.0", Int(1024)),
            ("1.3.6.1.4.1.2021.10.1.5.1", Int(125)),
        ]);
        var run = await Plugins.RunAsync("snmp", "poll", Plugins.Request("poll", 2000,
            new PluginTarget("dev", "127.0.0.1", agent.Port, Credential: new PluginCredential(1, Protocols.SnmpV2c, Community: "any"))));
        Expect.Ran(run);
        var metrics = run.Result("dev").Metrics!;
        var octets = metrics.Where(m => m.Name == "if_in_octets_total").ToDictionary(m => m.Labels!["if_index"], m => (m.Value, m.CounterBits));
        Assert.Equal((10_000_000_000.0, (int?)64), octets["1"]);
        Assert.Equal((2.0, (int?)32), octets["2"]);
        Assert.Equal(100_000_000, metrics.Single(m => m.Name == "if_speed_bits").Value);
        Assert.Equal(2048.0 * 1024, metrics.Single(m => m.Name == "memory_total_bytes").Value);
        Assert.Equal(1024.0 * 1024, metrics.Single(m => m.Name == "memory_available_bytes").Value);
        Assert.Equal(1.25, metrics.Single(m => m.Name == "load_1m").Value);
        Assert.DoesNotContain(metrics, m => m.Name == "load_5m");
        Assert.All(metrics.Where(m => !m.Name.EndsWith("_total", StringComparison.Ordinal)), m => Assert.Null(m.Kind));
    }

    [Fact]
    public async Task Discovery_of_an_agent_without_the_system_group_succeeds_with_empty_fields()
    {
        using var agent = new MiniAgent([("1.3.6.1.2.1.1.3.0", Ticks(100))]);
        var run = await Plugins.RunAsync("snmp", "discovery", Plugins.Request("discovery", 2000,
            new PluginTarget("dev", "127.0.0.1", agent.Port, Credentials: [new PluginCredential(9, Protocols.SnmpV2c, Community: "any")])));
        Expect.Ran(run);
        var result = run.Result("dev");
        Assert.True(result.Success, result.Error);
        Assert.Null(result.Hostname);
        Assert.Null(result.ObjectId);
        Assert.Equal(9, result.CredentialId);
    }
}
