using Microsoft.Azure.Functions.Worker;
using Nms.Core.Metrics;

namespace Nms.Functions.Metrics;

/// <summary>Creates daily metrics partitions ahead and drops those past retention (schedule: app setting NmsMaintenanceSchedule).</summary>
public sealed class MetricsMaintenanceFunction(MetricsPartitions partitions)
{
    [Function("MetricsMaintenance")]
    public Task Run([TimerTrigger("%NmsMaintenanceSchedule%", RunOnStartup = true)] TimerInfo timer, CancellationToken cancellationToken) =>
        partitions.MaintainAsync(cancellationToken);
}
