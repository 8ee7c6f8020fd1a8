using Microsoft.Azure.Functions.Worker;
using Nms.Core.Health;
using Nms.Core.Resilience;

namespace Nms.Functions.Health;

/// <summary>The seed's flow 3: every failure event of the poller (ping and poll), a poll batch's events per message.</summary>
public sealed class FailureConsumerFunction(HealthMonitor monitor, ConsumerGate gate)
{
    [Function("HealthFailureConsumer")]
    public Task Run(
        [QueueTrigger("%NmsFailuresQueue%", Connection = "AzureWebJobsStorage")] FailureBatchMessage failures,
        CancellationToken cancellationToken) =>
        gate.RunAsync("HealthFailureConsumer", ct => monitor.RecordFailuresAsync(failures, ct), cancellationToken, failures.BatchId, failures.TraceParent);
}
