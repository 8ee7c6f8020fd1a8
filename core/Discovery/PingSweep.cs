using Microsoft.Extensions.Logging;
using Nms.Core.Polling;

namespace Nms.Core.Discovery;

/// <summary>
/// The optional ping pre-check of discovery batches. It shares the poller's
/// <see cref="FpingReachability"/>, so discovery and polling together still run one fping at a
/// time per instance, and batches that wait are swept together. Unlike polling, a pre-check must
/// never hide a device: when fping cannot run, the batch is probed without it.
/// </summary>
public sealed class PingSweep(FpingReachability fping, ILogger<PingSweep> logger)
{
    /// <summary>The addresses that answered ping, or null when fping could not run (missing, failing, hung).</summary>
    public async Task<IReadOnlySet<string>?> AliveAsync(IReadOnlyList<string> addresses, CancellationToken cancellationToken)
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
