namespace Nms.Core.Metrics;

/// <summary>Poll results on the <c>metrics</c> queue; BatchId makes the writer idempotent.</summary>
public sealed record MetricsBatchMessage(Guid BatchId, IReadOnlyList<MetricSample> Samples);

public sealed record MetricSample(long DeviceId, string Name, double Value, IReadOnlyDictionary<string, string>? Labels, DateTimeOffset Ts);
