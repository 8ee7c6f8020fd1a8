using Nms.Plugins.Sdk;
using Nms.Testing;
using Xunit;

namespace Nms.Plugins.Tests;

/// <summary>The ssh plugin against a real sshd listening only on an IPv6 address the test adds to lo.</summary>
public sealed class SshIpv6Tests
{
    private const string Address = "fd15:16::b1";

    [Fact]
    public async Task Discovery_and_poll_reach_an_sshd_that_listens_only_on_ipv6()
    {
        await using var added = await LoopbackIpv6.AddAsync([Address]);
        using var server = await SshdProcess.StartAsync(new SshdOptions { Addresses = [Address] });
        var credential = new PluginCredential(1, Protocols.Ssh, User: server.Options.User, PrivateKey: server.ClientPrivateKey);

        var discovery = await Plugins.RunAsync("ssh", "discovery", Plugins.Request("discovery", 5000,
            new PluginTarget("v6", Address, server.Port, Credentials: [credential])));
        Expect.Ran(discovery);
        var found = discovery.Result("v6");
        Assert.True(found.Success, found.Error);
        Assert.Equal(server.HostKey, found.HostKey);

        var poll = await Plugins.RunAsync("ssh", "poll", Plugins.Request("poll", 5000,
            new PluginTarget("v6", Address, server.Port, Credential: credential, HostKey: found.HostKey)));
        Expect.Ran(poll);
        var polled = poll.Result("v6");
        Assert.True(polled.Success, polled.Error);
        Assert.Contains(polled.Metrics!, m => m.Name == "uptime_seconds" && m.Value > 0);
        Assert.Contains(polled.Metrics!, m => m.Name == "if_in_octets_total" && m.Labels!["interface"] == "lo");
    }
}
