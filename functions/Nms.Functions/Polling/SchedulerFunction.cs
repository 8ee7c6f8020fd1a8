using Microsoft.Azure.Functions.Worker;
using Nms.Core.Polling;

namespace Nms.Functions.Polling;

/// <summary>Pops due devices from the deadline table and enqueues poll batches (schedule: app setting NmsSchedulerSchedule).</summary>
public sealed class SchedulerFunction(PollScheduler scheduler)
{
    [Function("PollScheduler")]
    public Task Run([TimerTrigger("%NmsSchedulerSchedule%")] TimerInfo timer, CancellationToken cancellationToken) =>
        scheduler.TickAsync(cancellationToken);
}
