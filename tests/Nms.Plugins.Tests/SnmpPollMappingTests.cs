using Nms.Plugins.Sdk;
using Xunit;
using static Nms.Plugins.Tests.MiniAgent;

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
