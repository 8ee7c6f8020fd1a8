using Microsoft.Azure.Functions.Worker;
using Nms.Core.Health;

namespace Nms.Functions.Health;

/// <summary>
/// Re-checks devices the health consumer deactivated (when Nms:Health:RecoveryProbeEnabled is on),
/// and forgets processed failure event ids past their retention (always).
/// </summary>
public sealed class RecoveryProbeFunction(RecoveryProbe probe, HealthMonitor monitor)
{
    [Function("HealthRecoveryProbe")]
    public async Task Run(
        [TimerTrigger("%NmsRecoverySchedule%")] TimerInfo timer,
        CancellationToken cancellationToken)
    {
        await probe.RunAsync(cancellationToken);
        await monitor.PruneProcessedEventsAsync(cancellationToken);
    }
}
