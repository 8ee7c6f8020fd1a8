using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Nms.Core.Configuration;
using Nms.Core.Reachability;
using Nms.Testing;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Reachability;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ReachabilityTests
{
    // A listening or closed loopback port answers at once; tcp mode gets a timeout a loaded machine cannot miss.
    private static ReachabilityOptions Options(string mode = "icmp") =>
        new() { Mode = mode, FpingPath = TestEnvironment.Fping, TimeoutMilliseconds = mode == "tcp" ? 5_000 : 300, Retries = 0 };

    private static FpingReachability Fping(ReachabilityOptions? options = null) =>
        new(options ?? Options(), NullLogger<FpingReachability>.Instance);

    [Fact]
    public async Task Fping_reports_answering_loopback_addresses_alive_and_icmp_dropped_ones_dead()
    {
        using var blackhole = new IcmpBlackhole();

        var alive = await Fping().AliveAsync(["127.0.0.1", "127.0.0.2", blackhole.Address(1), blackhole.Address(2)], CancellationToken.None);

        Assert.Equal(["127.0.0.1", "127.0.0.2"], alive.Order());
    }

    [Fact]
    public async Task Batches_pinged_at_once_give_no_false_alive_and_share_fping_runs()
    {
        using var blackhole = new IcmpBlackhole();
        var fping = Fping();

        // Eight batches at once, each mixing answering and dropped addresses: a reply must never be
        // credited to an address that did not send it.
        var batches = Enumerable.Range(0, 8)
            .Select(b => Enumerable.Range(1, 8).Select(h => h % 2 == 0 ? $"127.0.{b + 1}.{h}" : blackhole.Address((b * 8) + h)).ToList())
            .ToList();
        var results = await Task.WhenAll(batches.Select(batch => Task.Run(() => fping.AliveAsync(batch, CancellationToken.None))));

        for (var b = 0; b < batches.Count; b++)
        {
            Assert.Equal(batches[b].Where(a => a.StartsWith("127.0.", StringComparison.Ordinal)).Order(), results[b].Order());
        }

        Assert.True(fping.Runs < batches.Count, $"expected concurrent batches to be coalesced, saw {fping.Runs} fping runs for {batches.Count} batches");
    }

    [Fact]
    public async Task Missing_fping_is_a_clear_error_naming_the_setting()
    {
        var options = Options();
        options.FpingPath = "/nonexistent/fping";

        var error = await Assert.ThrowsAsync<ReachabilityException>(() => Fping(options).AliveAsync(["127.0.0.1"], CancellationToken.None));

        Assert.Contains("Nms:Reachability:FpingPath", error.Message, StringComparison.Ordinal);
        Assert.Contains("/nonexistent/fping", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fping_without_the_raw_socket_right_is_a_clear_error()
    {
        // A copy of fping without cap_net_raw, run as an unprivileged user, cannot open its socket.
        var copy = Path.Combine(Path.GetTempPath(), "nms-fping-nocap-" + Guid.NewGuid().ToString("N")[..8]);
        File.Copy(TestEnvironment.Fping, copy);
        try
        {
            var wrapper = copy + ".sh";
            File.WriteAllText(wrapper, $"#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all {copy} \"$@\"\n");
            File.SetUnixFileMode(copy, (UnixFileMode)0b111_101_101);
            File.SetUnixFileMode(wrapper, (UnixFileMode)0b111_101_101);
            var options = Options();
            options.FpingPath = wrapper;

            var error = await Assert.ThrowsAsync<ReachabilityException>(() => Fping(options).AliveAsync(["127.0.0.1"], CancellationToken.None));

            Assert.Contains("Nms:Reachability:FpingPath", error.Message, StringComparison.Ordinal);
            Assert.True(error.Message.Contains("raw sockets", StringComparison.Ordinal), error.Message);
            File.Delete(wrapper);
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [Fact]
    public async Task Tcp_mode_counts_a_listening_port_reachable_and_a_closed_port_not()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var open = ((IPEndPoint)listener.LocalEndpoint).Port;
        var closed = FreeTcpPort();
        var checker = new ReachabilityChecker(Options("tcp"), Fping(), new TcpReachability(Options("tcp")), NullLogger<ReachabilityChecker>.Instance);

        var unreachable = await checker.UnreachableAsync(
            [new ReachabilityTarget(1, "127.0.0.1", open, "ssh"), new ReachabilityTarget(2, "127.0.0.1", closed, "ssh")], CancellationToken.None);

        Assert.Equal([2L], unreachable);
    }

    [Fact]
    public async Task Tcp_mode_over_ipv6_counts_a_listening_sshd_reachable_and_a_closed_port_not()
    {
        const string address = "fd15:17::c1";
        await using var added = await LoopbackIpv6.AddAsync([address]);
        using var sshd = await SshdProcess.StartAsync(new SshdOptions { Addresses = [address] });
        var closed = FreeTcpPort();
        var checker = new ReachabilityChecker(Options("tcp"), Fping(), new TcpReachability(Options("tcp")), NullLogger<ReachabilityChecker>.Instance);

        var unreachable = await checker.UnreachableAsync(
            [new ReachabilityTarget(1, address, sshd.Port, "ssh"), new ReachabilityTarget(2, address, closed, "ssh")], CancellationToken.None);

        Assert.Equal([2L], unreachable);
    }

    [Fact]
    public async Task Tcp_mode_lets_udp_plugins_through_without_a_connect()
    {
        var closed = FreeTcpPort();
        var checker = new ReachabilityChecker(Options("tcp"), Fping(), new TcpReachability(Options("tcp")), NullLogger<ReachabilityChecker>.Instance);

        var unreachable = await checker.UnreachableAsync(
            [new ReachabilityTarget(1, "127.0.0.1", closed, "snmp"), new ReachabilityTarget(2, "127.0.0.1", closed, "ssh")], CancellationToken.None);

        Assert.Equal([2L], unreachable);
    }

    [Fact]
    public void An_unknown_mode_is_rejected_naming_the_setting()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new ReachabilityChecker(Options("udp"), Fping(), new TcpReachability(Options()), NullLogger<ReachabilityChecker>.Instance));

        Assert.Contains("Nms:Reachability:Mode", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Icmp_mode_reports_dropped_devices_unreachable_by_key()
    {
        using var blackhole = new IcmpBlackhole();
        var checker = new ReachabilityChecker(Options(), Fping(), new TcpReachability(Options()), NullLogger<ReachabilityChecker>.Instance);

        var unreachable = await checker.UnreachableAsync(
            [new ReachabilityTarget(7, "127.0.0.1", 161, "snmp"), new ReachabilityTarget(8, blackhole.Address(9), 161, "snmp")], CancellationToken.None);

        Assert.Equal([8L], unreachable);
    }

    private static int FreeTcpPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
