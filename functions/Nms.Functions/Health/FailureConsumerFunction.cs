using Microsoft.Azure.Functions.Worker;
using Nms.Core.Health;

namespace Nms.Functions.Health;

/// <summary>The seed's flow 3: every failure event from the scheduler (ping) and the poller (poll).</summary>
public sealed class FailureConsumerFunction(HealthMonitor monitor)
{
    [Function("HealthFailureConsumer")]
    public Task Run(
        [QueueTrigger("%NmsFailuresQueue%", Connection = "AzureWebJobsStorage")] FailureEvent failure,
        CancellationToken cancellationToken) =>
        monitor.RecordFailureAsync(failure, cancellationToken);
}
