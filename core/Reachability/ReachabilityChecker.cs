using Microsoft.Extensions.Logging;
using Nms.Core.Configuration;

namespace Nms.Core.Reachability;

/// <summary>One address to check. <see cref="Key"/> is the caller's (a device id, or an index in a sweep).</summary>
public sealed record ReachabilityTarget(long Key, string Ip, int Port, string Plugin);

/// <summary>Reachability is broken (fping missing, no raw-socket right): a configuration error, not a device failure.</summary>
public sealed class ReachabilityException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The app's one reachability check: the poller's gate, discovery's ping pre-check and the recovery probe's first step.</summary>
public interface IReachability
{
    /// <summary>The configured mode, <c>icmp</c> or <c>tcp</c>, as it appears in failure messages.</summary>
    string Mode { get; }

    /// <summary>Keys of the targets that did not answer, in the configured mode.</summary>
    Task<IReadOnlySet<long>> UnreachableAsync(IReadOnlyList<ReachabilityTarget> targets, CancellationToken cancellationToken);

    /// <summary>
    /// Discovery's pre-check: the addresses that answered ping, or null when fping could not run (missing,
    /// failing, hung). Unlike polling, a pre-check must never hide a device, so a broken fping skips it.
    /// </summary>
    Task<IReadOnlySet<string>?> SweepAsync(IReadOnlyList<string> addresses, CancellationToken cancellationToken);
}

/// <summary>
/// Reachability in the configured <see cref="ReachabilityOptions.Mode"/>, parsed once here:
/// <list type="bullet">
/// <item><c>icmp</c>: one fping run per call (<see cref="FpingReachability"/>: one fping at a time per process, concurrent callers coalesced),
/// shared by polling, discovery and the recovery probe.</item>
/// <item><c>tcp</c>: a TCP connect to each device's own port (<see cref="TcpReachability"/>), for hosts where ICMP is filtered.
/// A device counts as reachable only when the connect succeeds (a refused port is a failure, like a silent one).
/// Plugins listed in <c>Nms:Reachability:UdpPlugins</c> (default <c>snmp</c>) talk UDP, where a connect proves nothing:
/// in tcp mode their devices skip the gate, and an unanswering agent surfaces as a <c>poll</c> failure from the plugin's own timeout
/// rather than a <c>ping</c> failure. That is the honest trade: there is no portable unprivileged probe for a UDP port.</item>
/// </list>
/// </summary>
public sealed class ReachabilityChecker : IReachability
{
    public const string IcmpMode = "icmp";
    public const string TcpMode = "tcp";
    public const string UdpPluginsSetting = "Nms:Reachability:UdpPlugins";

    private readonly FpingReachability fping;
    private readonly TcpReachability tcp;
    private readonly IReadOnlySet<string> udpPlugins;
    private readonly ILogger<ReachabilityChecker> logger;

    public ReachabilityChecker(ReachabilityOptions options, FpingReachability fping, TcpReachability tcp, ILogger<ReachabilityChecker> logger)
    {
        Mode = (options.Mode ?? "").Trim().ToLowerInvariant() switch
        {
            IcmpMode => IcmpMode,
            TcpMode => TcpMode,
            var other => throw new InvalidOperationException(
                $"Setting Nms:Reachability:Mode (env Nms__Reachability__Mode) is '{other}'; it must be '{IcmpMode}' or '{TcpMode}'."),
        };
        this.fping = fping;
        this.tcp = tcp;
        this.logger = logger;
        udpPlugins = (options.UdpPlugins ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
    }

    public string Mode { get; }

    public async Task<IReadOnlySet<long>> UnreachableAsync(IReadOnlyList<ReachabilityTarget> targets, CancellationToken cancellationToken)
    {
        if (targets.Count == 0)
        {
            return new HashSet<long>();
        }

        if (Mode == IcmpMode)
        {
            var alive = await fping.AliveAsync(targets.Select(t => t.Ip).ToList(), cancellationToken);
            return targets.Where(t => !alive.Contains(t.Ip)).Select(t => t.Key).ToHashSet();
        }

        var probed = targets.Where(t => !udpPlugins.Contains(t.Plugin)).ToList();
        var open = await tcp.OpenAsync(probed.Select(t => (t.Ip, t.Port)).ToList(), cancellationToken);
        return probed.Where(t => !open.Contains((t.Ip, t.Port))).Select(t => t.Key).ToHashSet();
    }

    public async Task<IReadOnlySet<string>?> SweepAsync(IReadOnlyList<string> addresses, CancellationToken cancellationToken)
    {
        try
        {
            return await fping.AliveAsync(addresses, cancellationToken);
        }
        catch (ReachabilityException ex)
        {
            logger.LogWarning("Ping pre-check skipped, probing every address: {Error}", ex.Message);
            return null;
        }
    }
}
