using Microsoft.Azure.Functions.Worker;
using Nms.Core.Polling;
using Nms.Core.Resilience;

namespace Nms.Functions.Polling;

/// <summary>Polls one batch: reachability, then each plugin once; results to the metrics queue, failures to the failures queue.</summary>
public sealed class PollerFunction(Poller poller, ConsumerGate gate)
{
    [Function("Poller")]
    public Task Run([QueueTrigger("%NmsPollQueue%", Connection = "AzureWebJobsStorage")] PollBatchMessage batch, CancellationToken cancellationToken) =>
        gate.RunAsync("Poller", ct => poller.PollAsync(batch, ct), cancellationToken, batch.BatchId, batch.TraceParent);
}
