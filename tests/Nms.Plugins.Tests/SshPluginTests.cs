using Nms.Plugins.Sdk;
using Nms.Testing;
using Xunit;

namespace Nms.Plugins.Tests;

public sealed class SshPluginTests(SshdFixture fixture) : IClassFixture<SshdFixture>
{
    private SshdProcess Server => fixture.Server;

    private PluginCredential Password(long id, string? password = null) =>
        new(id, Protocols.Ssh, User: Server.Options.User, Password: password ?? Server.Options.Password);

    private PluginCredential Key(long id) => new(id, Protocols.Ssh, User: Server.Options.User, PrivateKey: Server.ClientPrivateKey);

    [Fact]
    public async Task Discovery_reports_hostname_os_and_the_host_key()
    {
        var run = await Plugins.RunAsync("ssh", "discovery", Plugins.Request("discovery", 5000,
            new PluginTarget("host", Server.Address, Server.Port, Credentials: [Password(1, "wrong-password"), Password(2)])));
        Expect.Ran(run);
        var result = run.Result("host");
        Assert.True(result.Success, result.Error);
        Assert.Equal(System.Net.Dns.GetHostName(), result.Hostname);
        Assert.Contains("Linux", result.Description, StringComparison.Ordinal);
        Assert.Equal(Server.HostKey, result.HostKey);
        Assert.Equal(2, result.CredentialId);
    }

    [Fact]
    public async Task Poll_with_a_key_reads_load_cpu_memory_disks_uptime_and_interfaces()
    {
        // Only the fingerprint must match: one RSA key can be announced under several algorithm names.
        var recorded = "rsa-sha2-512 " + Server.HostKey.Split(' ')[1];
        var run = await Plugins.RunAsync("ssh", "poll", Plugins.Request("poll", 5000,
            new PluginTarget("host", Server.Address, Server.Port, Credential: Key(3), HostKey: recorded)));
        Expect.Ran(run);
        var result = run.Result("host");
        Assert.True(result.Success, result.Error);
        var metrics = result.Metrics!.ToLookup(m => m.Name);
        Assert.Single(metrics["load_1m"]);
        Assert.Single(metrics["load_15m"]);
        Assert.InRange(metrics["cpu_utilisation_percent"].Single().Value, 0, 100);
        Assert.True(metrics["mem_total_bytes"].Single().Value > metrics["mem_available_bytes"].Single().Value);
        Assert.True(metrics["disk_size_bytes"].Single(m => m.Labels!["mount"] == "/").Value > 0);
        Assert.True(metrics["uptime_seconds"].Single().Value > 0);
        Assert.True(metrics["if_in_octets_total"].Single(m => m.Labels!["interface"] == "lo").Value > 0);
        Assert.Single(metrics["if_out_errors_total"], m => m.Labels!["interface"] == "lo");
    }

    [Fact]
    public async Task A_changed_host_key_fails_the_target_instead_of_being_accepted()
    {
        const string recorded = "ssh-ed25519 SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        var run = await Plugins.RunAsync("ssh", "poll", Plugins.Request("poll", 5000,
            new PluginTarget("changed", Server.Address, Server.Port, Credential: Password(1), HostKey: recorded),
            new PluginTarget("unknown", Server.Address, Server.Port, Credential: Password(1))));
        Expect.Ran(run);
        var changed = run.Result("changed");
        Assert.False(changed.Success);
        Assert.Contains("host key changed", changed.Error, StringComparison.Ordinal);
        Assert.Contains(Server.HostKey, changed.Error, StringComparison.Ordinal);
        Assert.Null(changed.Metrics);
        Assert.False(run.Result("unknown").Success);
    }

    [Fact]
    public async Task Wrong_password_and_closed_port_fail_their_target_only()
    {
        var run = await Plugins.RunAsync("ssh", "poll", Plugins.Request("poll", 5000,
            new PluginTarget("password", Server.Address, Server.Port, Credential: Password(1, "not-the-password"), HostKey: Server.HostKey),
            new PluginTarget("closed", "127.0.0.1", FreePort.Tcp(), Credential: Password(1), HostKey: Server.HostKey),
            new PluginTarget("good", Server.Address, Server.Port, Credential: Password(1), HostKey: Server.HostKey)));
        Expect.Ran(run);
        Assert.Contains("authentication failed", run.Result("password").Error, StringComparison.Ordinal);
        Assert.Contains("cannot connect", run.Result("closed").Error, StringComparison.Ordinal);
        Assert.True(run.Result("good").Success, run.Result("good").Error);
        Assert.DoesNotContain("not-the-password", run.Stdout + run.Stderr, StringComparison.Ordinal);
    }
}
