using Nms.Plugins.Sdk;
using Nms.Testing;
using Xunit;

namespace Nms.Plugins.Tests;

public sealed class SnmpPluginTests(SnmpAgentFixture fixture) : IClassFixture<SnmpAgentFixture>
{
    private SnmpdProcess Agent => fixture.Agent;

    private static PluginCredential V2c(long id, string community) => new(id, Protocols.SnmpV2c, Community: community);

    private static PluginCredential V3(long id, SnmpV3User user, string? authPassword = null) => new(
        id,
        Protocols.SnmpV3,
        User: user.Name,
        AuthProtocol: user.AuthProtocol == "SHA-256" ? "sha256" : "sha1",
        AuthKey: authPassword ?? user.AuthPassword,
        PrivProtocol: user.PrivProtocol is null ? "none" : "aes128",
        PrivKey: user.PrivPassword);

    private PluginTarget Target(string id, PluginCredential? poll = null, params PluginCredential[] discovery) =>
        new(id, Agent.Address, Agent.Port, Credential: poll, Credentials: discovery);

    [Fact]
    public async Task V2c_discovery_reports_the_agent_and_the_credential_that_worked()
    {
        var run = await Plugins.RunAsync("snmp", "discovery", Plugins.Request("discovery", 600,
            Target("dev", null, V2c(1, "wrong-community"), new PluginCredential(2, Protocols.Ssh, User: "x", Password: "y"), V2c(3, SnmpAgentFixture.Community))));
        Expect.Ran(run);
        var result = run.Result("dev");
        Assert.True(result.Success, result.Error);
        Assert.Equal(SnmpAgentFixture.SysName, result.Hostname);
        Assert.StartsWith("Linux", result.Description, StringComparison.Ordinal);
        Assert.StartsWith("1.3.6.1.4.1.8072.", result.ObjectId, StringComparison.Ordinal);
        Assert.Equal(3, result.CredentialId);
    }

    public static TheoryData<string> V3Users => ["sha", "sha256", "authonly"];

    private static SnmpV3User User(string name) => name switch
    {
        "sha" => SnmpAgentFixture.Sha,
        "sha256" => SnmpAgentFixture.Sha256,
        _ => SnmpAgentFixture.ShaAuthOnly,
    };

    [Theory]
    [MemberData(nameof(V3Users))]
    public async Task V3_discovery_works_for_each_security_level_and_hash(string user)
    {
        var run = await Plugins.RunAsync("snmp", "discovery", Plugins.Request("discovery", 2000, Target("dev", null, V3(7, User(user)))));
        Expect.Ran(run);
        var result = run.Result("dev");
        Assert.True(result.Success, result.Error);
        Assert.Equal(SnmpAgentFixture.SysName, result.Hostname);
        Assert.Equal(7, result.CredentialId);
    }

    [Theory]
    [InlineData("v2c")]
    [InlineData("sha")]
    [InlineData("sha256")]
    public async Task Poll_reads_uptime_interfaces_and_host_resources(string credential)
    {
        var poll = credential == "v2c" ? V2c(1, SnmpAgentFixture.Community) : V3(1, User(credential));
        var before = DateTimeOffset.UtcNow;
        var run = await Plugins.RunAsync("snmp", "poll", Plugins.Request("poll", 3000, Target("dev", poll)));
        Expect.Ran(run);
        var result = run.Result("dev");
        Assert.True(result.Success, result.Error);
        var metrics = result.Metrics!;
        Assert.True(metrics.Single(m => m.Name == "sys_uptime_seconds").Value > 0);
        Assert.Equal(1, metrics.Single(m => m.Name == "if_oper_status" && m.Labels!["interface"] == "lo").Value);
        Assert.True(metrics.Single(m => m.Name == "if_in_octets_total" && m.Labels!["interface"] == "lo").Value > 0);
        foreach (var name in new[] { "if_out_octets_total", "if_in_errors_total", "if_out_errors_total", "if_in_discards_total", "if_out_discards_total" })
        {
            Assert.Contains(metrics, m => m.Name == name && m.Labels!["interface"] == "lo");
        }

        Assert.True(metrics.Single(m => m.Name == "storage_size_bytes" && m.Labels!["storage"] == "Physical memory").Value > 0);
        Assert.All(metrics, m => Assert.InRange(m.Ts!.Value, before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1)));
    }

    [Fact]
    public async Task Wrong_community_wrong_v3_password_and_an_unreachable_port_fail_their_target_only()
    {
        var wrongPassword = V3(2, SnmpAgentFixture.Sha256, authPassword: "not-the-password");
        var run = await Plugins.RunAsync("snmp", "poll", Plugins.Request("poll", 900,
            Target("community", V2c(1, "wrong-community")),
            Target("password", wrongPassword),
            new PluginTarget("closed", "127.0.0.1", FreePort.Udp(), Credential: V2c(1, SnmpAgentFixture.Community)),
            Target("good", V2c(1, SnmpAgentFixture.Community))));
        Expect.Ran(run);
        Assert.Contains("no response", run.Result("community").Error, StringComparison.Ordinal);
        Assert.Contains("authentication failed", run.Result("password").Error, StringComparison.Ordinal);
        Assert.Contains("unreachable", run.Result("closed").Error, StringComparison.Ordinal);
        Assert.True(run.Result("good").Success, run.Result("good").Error);
        Assert.DoesNotContain("not-the-password", run.Stdout + run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_batch_of_64_with_10_dead_targets_takes_about_one_timeout()
    {
        const int timeoutMs = 1500;
        using var silent = new SilentUdpPorts(10);
        var targets = Enumerable.Range(0, 54).Select(i => Target($"live{i}", V2c(1, SnmpAgentFixture.Community)))
            .Concat(silent.Ports.Select((port, i) => new PluginTarget($"dead{i}", "127.0.0.1", port, Credential: V2c(1, SnmpAgentFixture.Community))))
            .ToArray();
        var run = await Plugins.RunAsync("snmp", "poll", Plugins.Request("poll", timeoutMs, targets));
        Expect.Ran(run);
        Assert.Equal(64, run.Response.Results.Count);
        Assert.All(run.Response.Results.Where(r => r.Id.StartsWith("live", StringComparison.Ordinal)), r => Assert.True(r.Success, r.Error));
        Assert.All(run.Response.Results.Where(r => r.Id.StartsWith("dead", StringComparison.Ordinal)), r => Assert.False(r.Success));
        // Ten dead targets one after another would take 15 s.
        Assert.True(run.Elapsed < TimeSpan.FromMilliseconds(timeoutMs * 2.5), run.Elapsed.ToString());
    }
}
