using Microsoft.Azure.Functions.Worker;
using Nms.Core.Metrics;
using Nms.Core.Resilience;

namespace Nms.Functions.Metrics;

/// <summary>Writes one metrics batch with COPY, once, however often it is delivered.</summary>
public sealed class MetricsWriterFunction(MetricsWriter writer, ConsumerGate gate)
{
    [Function("MetricsWriter")]
    public Task Run([QueueTrigger("%NmsMetricsQueue%", Connection = "AzureWebJobsStorage")] MetricsBatchMessage batch, CancellationToken cancellationToken) =>
        gate.RunAsync("MetricsWriter", ct => writer.WriteAsync(batch, ct), cancellationToken, batch.BatchId, batch.TraceParent);
}
