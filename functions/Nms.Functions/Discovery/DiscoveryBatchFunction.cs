using Microsoft.Azure.Functions.Worker;
using Nms.Core.Discovery;
using Nms.Core.Resilience;

namespace Nms.Functions.Discovery;

/// <summary>One discovery batch from the <c>discovery</c> queue (at-least-once; the worker is idempotent).</summary>
public sealed class DiscoveryBatchFunction(DiscoveryWorker worker, ConsumerGate gate)
{
    [Function("DiscoveryBatch")]
    public Task Run(
        [QueueTrigger("%NmsDiscoveryQueue%", Connection = "AzureWebJobsStorage")] DiscoveryBatchMessage message,
        CancellationToken cancellationToken) =>
        gate.RunAsync("DiscoveryBatch", ct => worker.ProcessAsync(message, ct), cancellationToken, message.RunId, message.TraceParent);
}
