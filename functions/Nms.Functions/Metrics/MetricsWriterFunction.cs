using Microsoft.Azure.Functions.Worker;
using Nms.Core.Metrics;

namespace Nms.Functions.Metrics;

/// <summary>Writes one metrics batch with COPY, once, however often it is delivered.</summary>
public sealed class MetricsWriterFunction(MetricsWriter writer)
{
    [Function("MetricsWriter")]
    public Task Run([QueueTrigger("%NmsMetricsQueue%", Connection = "AzureWebJobsStorage")] MetricsBatchMessage batch, CancellationToken cancellationToken) =>
        writer.WriteAsync(batch, cancellationToken);
}
