using Nms.Plugins.Sdk;
using Nms.Testing;
using Xunit;

namespace Nms.Plugins.Tests;

/// <summary>One snmpd with a v1/v2c community and a v3 user for every auth × priv pair net-snmp offers.</summary>
public sealed class SnmpMatrixFixture : IAsyncLifetime
{
    public const string Community = "nms-matrix-community";

    /// <summary>net-snmp's createUser name → the plugin contract's name.</summary>
    public static readonly IReadOnlyList<(string NetSnmp, string Contract)> Auths =
        [("MD5", "md5"), ("SHA", "sha1"), ("SHA-224", "sha224"), ("SHA-256", "sha256"), ("SHA-384", "sha384"), ("SHA-512", "sha512")];

    public static readonly IReadOnlyList<(string? NetSnmp, string Contract)> Privs =
        [(null, "none"), ("DES", "des"), ("AES", "aes128"), ("AES-192", "aes192"), ("AES-256", "aes256")];

    public static IEnumerable<(SnmpV3User User, string Auth, string Priv)> Users =>
        from auth in Auths
        from priv in Privs
        let name = $"m-{auth.Contract}-{priv.Contract}"
        select (new SnmpV3User(name, auth.NetSnmp, $"{name}-auth", priv.NetSnmp, priv.NetSnmp is null ? null : $"{name}-priv"), auth.Contract, priv.Contract);

    public SnmpdProcess Agent { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _ = Plugins.Directory;
        Agent = await SnmpdProcess.StartAsync(new SnmpdOptions
        {
            Community = Community,
            SysName = "nms-matrix-agent",
            Users = Users.Select(u => u.User).ToList(),
        });
    }

    public Task DisposeAsync()
    {
        Agent?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// Every protocol variant against the real snmpd, all in one plugin run per mode (the whole matrix is one batch,
/// as the poller would send it), and each wrong secret with the reason a user can act on.
/// </summary>
public sealed class SnmpMatrixTests(SnmpMatrixFixture fixture) : IClassFixture<SnmpMatrixFixture>
{
    private SnmpdProcess Agent => fixture.Agent;

    private static PluginCredential Community(string protocol, string community = SnmpMatrixFixture.Community) => new(1, protocol, Community: community);

    private static PluginCredential V3(SnmpV3User user, string auth, string priv, string? authKey = null, string? privKey = null, string? name = null) =>
        new(2, Protocols.SnmpV3, User: name ?? user.Name, AuthProtocol: auth, AuthKey: authKey ?? user.AuthPassword, PrivProtocol: priv, PrivKey: privKey ?? user.PrivPassword);

    private static IEnumerable<(string Id, PluginCredential Credential)> Matrix() =>
        new[] { ("v1", Community(Protocols.SnmpV1)), ("v2c", Community(Protocols.SnmpV2c)) }
            .Concat(SnmpMatrixFixture.Users.Select(u => (u.User.Name, V3(u.User, u.Auth, u.Priv))));

    [Fact]
    public async Task Every_version_and_auth_priv_pair_is_discovered_in_one_batch()
    {
        var targets = Matrix().Select(m => new PluginTarget(m.Id, Agent.Address, Agent.Port, Credentials: [m.Credential])).ToArray();
        Assert.Equal(32, targets.Length);
        var run = await Plugins.RunAsync("snmp", "discovery", Plugins.Request("discovery", 3000, targets));
        Expect.Ran(run);
        Assert.All(run.Response.Results, r =>
        {
            Assert.True(r.Success, $"{r.Id}: {r.Error}");
            Assert.Equal("nms-matrix-agent", r.Hostname);
        });
    }

    [Fact]
    public async Task Every_version_and_auth_priv_pair_is_polled_in_one_batch_with_the_counter_width_it_has()
    {
        var targets = Matrix().Select(m => new PluginTarget(m.Id, Agent.Address, Agent.Port, Credential: m.Credential)).ToArray();
        var run = await Plugins.RunAsync("snmp", "poll", Plugins.Request("poll", 3000, targets));
        Expect.Ran(run);
        Assert.Equal(32, run.Response.Results.Count);
        foreach (var result in run.Response.Results)
        {
            Assert.True(result.Success, $"{result.Id}: {result.Error}");
            var metrics = result.Metrics!;
            var octets = metrics.Single(m => m.Name == "if_in_octets_total" && m.Labels!["interface"] == "lo");
            Assert.Equal("counter", octets.Kind);
            // SNMPv1 has no Counter64: the 32-bit ifInOctets, marked so rates know where it wraps.
            Assert.Equal(result.Id == "v1" ? 32 : 64, octets.CounterBits);
            Assert.Equal(1, metrics.Single(m => m.Name == "if_admin_status" && m.Labels!["interface"] == "lo").Value);
            Assert.True(metrics.Single(m => m.Name == "memory_total_bytes").Value > 0, result.Id);
            Assert.Contains(metrics, m => m.Name == "load_1m");
            Assert.Contains(metrics, m => m.Name == "sys_uptime_seconds");
        }
    }

    [Fact]
    public async Task Each_wrong_secret_fails_its_own_target_with_a_reason_and_leaks_nothing()
    {
        var (shaAes256, _, _) = SnmpMatrixFixture.Users.Single(u => u.User.Name == "m-sha512-aes256");
        var (md5Des, _, _) = SnmpMatrixFixture.Users.Single(u => u.User.Name == "m-md5-des");
        var (authOnly, _, _) = SnmpMatrixFixture.Users.Single(u => u.User.Name == "m-sha256-none");
        PluginTarget Target(string id, PluginCredential credential) => new(id, Agent.Address, Agent.Port, Credential: credential);
        var run = await Plugins.RunAsync("snmp", "poll", Plugins.Request("poll", 1200,
            Target("v1-community", Community(Protocols.SnmpV1, "wrong-community-1")),
            Target("v2c-community", Community(Protocols.SnmpV2c, "wrong-community-2")),
            Target("unknown-user", V3(shaAes256, "sha512", "aes256", name: "nobody-here")),
            Target("auth-key", V3(shaAes256, "sha512", "aes256", authKey: "wrong-auth-key-1")),
            Target("auth-protocol", V3(shaAes256, "sha384", "aes256")),
            Target("priv-key", V3(shaAes256, "sha512", "aes256", privKey: "wrong-priv-key-1")),
            Target("des-priv-key", V3(md5Des, "md5", "des", privKey: "wrong-priv-key-2")),
            Target("level", V3(authOnly, "sha256", "aes128", privKey: "some-priv-key-1")),
            Target("good", V3(shaAes256, "sha512", "aes256"))));
        Expect.Ran(run);
        string Error(string id) => run.Result(id).Error ?? "";
        Assert.Contains("no response", Error("v1-community"), StringComparison.Ordinal);
        Assert.Contains("no response", Error("v2c-community"), StringComparison.Ordinal);
        Assert.Contains("unknown user", Error("unknown-user"), StringComparison.Ordinal);
        Assert.Contains("usmStatsWrongDigests", Error("auth-key"), StringComparison.Ordinal);
        Assert.Contains("usmStatsWrongDigests", Error("auth-protocol"), StringComparison.Ordinal);
        Assert.Contains("decryption failed", Error("priv-key"), StringComparison.Ordinal);
        Assert.Contains("decryption failed", Error("des-priv-key"), StringComparison.Ordinal);
        Assert.Contains("usmStatsUnsupportedSecLevels", Error("level"), StringComparison.Ordinal);
        Assert.True(run.Result("good").Success, Error("good"));
        foreach (var secret in new[] { "wrong-auth-key-1", "wrong-priv-key-1", "wrong-priv-key-2", "wrong-community-1", shaAes256.AuthPassword })
        {
            Assert.DoesNotContain(secret, run.Stdout + run.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_v1_v2c_and_v3_poll_over_udp6_reads_the_agent_on_its_ipv6_address()
    {
        var (user, _, _) = SnmpMatrixFixture.Users.Single(u => u.User.Name == "m-sha256-aes128");
        using var agent6 = await SnmpdProcess.StartAsync(new SnmpdOptions
        {
            Addresses = ["::1"],
            Community = SnmpMatrixFixture.Community,
            SysName = "nms-matrix-agent6",
            Users = [user],
        });
        PluginTarget Target(string id, PluginCredential credential) => new(id, "::1", agent6.Port, Credential: credential, Credentials: [credential]);
        var targets = new[] { Target("v1", Community(Protocols.SnmpV1)), Target("v2c", Community(Protocols.SnmpV2c)), Target("v3", V3(user, "sha256", "aes128")) };
        var poll = await Plugins.RunAsync("snmp", "poll", Plugins.Request("poll", 3000, targets));
        var discovery = await Plugins.RunAsync("snmp", "discovery", Plugins.Request("discovery", 3000, targets));
        Expect.Ran(poll);
        Expect.Ran(discovery);
        Assert.All(poll.Response.Results, r => Assert.True(r.Success && r.Metrics!.Any(m => m.Name == "if_in_octets_total"), $"{r.Id}: {r.Error}"));
        Assert.All(discovery.Response.Results, r => Assert.Equal("nms-matrix-agent6", r.Hostname));
    }

    [Fact]
    public async Task An_unsupported_protocol_name_fails_the_target_naming_it_instead_of_downgrading()
    {
        var (user, _, _) = SnmpMatrixFixture.Users.Single(u => u.User.Name == "m-sha1-aes256");
        var run = await Plugins.RunAsync("snmp", "poll", Plugins.Request("poll", 1000,
            new PluginTarget("reeder", Agent.Address, Agent.Port, Credential: V3(user, "sha1", "aes256c")),
            new PluginTarget("hash", Agent.Address, Agent.Port, Credential: V3(user, "sha3-256", "aes256"))));
        Expect.Ran(run);
        Assert.Contains("unsupported priv_protocol aes256c", run.Result("reeder").Error, StringComparison.Ordinal);
        Assert.Contains("unsupported auth_protocol sha3-256", run.Result("hash").Error, StringComparison.Ordinal);
    }
}
