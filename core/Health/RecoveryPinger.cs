using System.Net;
using System.Net.NetworkInformation;
using Nms.Core.Configuration;

namespace Nms.Core.Health;

/// <summary>The recovery probe's first, cheap check. A seam so tests can make an address "down".</summary>
public interface IRecoveryPinger
{
    /// <summary>False when the ping step is skipped (reachability mode <c>tcp</c>): the plugin call decides alone.</summary>
    bool Enabled { get; }

    /// <summary>The addresses (as given) that answered.</summary>
    Task<IReadOnlySet<string>> ReachableAsync(IReadOnlyCollection<string> addresses, CancellationToken cancellationToken);
}

/// <summary>
/// ICMP echo through <see cref="Ping"/> (raw socket when permitted, the system ping otherwise), at most
/// 16 at a time, with the reachability timeout and retries. Where ICMP is not available (reachability
/// mode <c>tcp</c>, e.g. on a consumption plan) the ping step is skipped.
/// </summary>
public sealed class IcmpRecoveryPinger(ReachabilityOptions options) : IRecoveryPinger
{
    private const int MaxParallel = 16;

    public bool Enabled => string.Equals(options.Mode, "icmp", StringComparison.OrdinalIgnoreCase);

    public async Task<IReadOnlySet<string>> ReachableAsync(IReadOnlyCollection<string> addresses, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return addresses.ToHashSet(StringComparer.Ordinal);
        }

        var reachable = new HashSet<string>(StringComparer.Ordinal);
        var timeout = TimeSpan.FromMilliseconds(Math.Clamp(options.TimeoutMilliseconds, 50, 10_000));
        var attempts = 1 + Math.Clamp(options.Retries, 0, 5);
        await Parallel.ForEachAsync(
            addresses.Distinct(StringComparer.Ordinal),
            new ParallelOptions { MaxDegreeOfParallelism = MaxParallel, CancellationToken = cancellationToken },
            async (address, ct) =>
            {
                if (await AnswersAsync(address, timeout, attempts, ct))
                {
                    lock (reachable)
                    {
                        reachable.Add(address);
                    }
                }
            });
        return reachable;
    }

    private static async Task<bool> AnswersAsync(string address, TimeSpan timeout, int attempts, CancellationToken cancellationToken)
    {
        if (!IPAddress.TryParse(address, out var ip))
        {
            return false;
        }

        using var ping = new Ping();
        for (var attempt = 0; attempt < attempts; attempt++)
        {
            try
            {
                var reply = await ping.SendPingAsync(ip, timeout, buffer: null, options: null, cancellationToken);
                if (reply.Status == IPStatus.Success)
                {
                    return true;
                }
            }
            catch (PingException)
            {
                // Unreachable network or no permission: counts as no answer.
            }
        }

        return false;
    }
}
