using Nms.Core.Configuration;
using Nms.Core.Health;

namespace Nms.Tests.Health;

public sealed class RecoveryPingerTests
{
    [Fact]
    public async Task Icmp_mode_finds_loopback_addresses_answering_and_drops_what_is_not_an_address()
    {
        var pinger = new IcmpRecoveryPinger(new ReachabilityOptions { Mode = "icmp", TimeoutMilliseconds = 500, Retries = 0 });

        var reachable = await pinger.ReachableAsync(["127.0.0.1", "127.22.0.9", "not-an-ip"], default);

        Assert.True(pinger.Enabled);
        Assert.Equal(["127.0.0.1", "127.22.0.9"], reachable.Order());
    }

    [Fact]
    public async Task Tcp_mode_skips_the_ping_step_and_leaves_the_decision_to_the_plugin()
    {
        var pinger = new IcmpRecoveryPinger(new ReachabilityOptions { Mode = "tcp" });

        var reachable = await pinger.ReachableAsync(["127.0.0.1", "not-an-ip"], default);

        Assert.False(pinger.Enabled);
        Assert.Equal(2, reachable.Count);
    }
}
