using Microsoft.Azure.Functions.Worker;
using Nms.Core.Metrics;

namespace Nms.Functions.Metrics;

/// <summary>Compacts closed windows of hot samples into blocks and rollups (schedule: app setting NmsCompactionSchedule).</summary>
public sealed class MetricsCompactionFunction(MetricsCompactor compactor)
{
    [Function("MetricsCompaction")]
    public Task Run([TimerTrigger("%NmsCompactionSchedule%")] TimerInfo timer, CancellationToken cancellationToken) =>
        compactor.CompactAsync(cancellationToken);
}
