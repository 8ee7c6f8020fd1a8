using Microsoft.Azure.Functions.Worker;
using Nms.Core.Polling;

namespace Nms.Functions.Polling;

/// <summary>Polls one batch: reachability, then each plugin once; results to the metrics queue, failures to the failures queue.</summary>
public sealed class PollerFunction(Poller poller)
{
    [Function("Poller")]
    public Task Run([QueueTrigger("%NmsPollQueue%", Connection = "AzureWebJobsStorage")] PollBatchMessage batch, CancellationToken cancellationToken) =>
        poller.PollAsync(batch, cancellationToken);
}
