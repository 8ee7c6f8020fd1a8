namespace Nms.Core.Metrics;

/// <summary>Poll results on the <c>metrics</c> queue; BatchId makes the writer idempotent.</summary>
public sealed record MetricsBatchMessage(Guid BatchId, IReadOnlyList<MetricSample> Samples);

/// <summary><see cref="Kind"/> and <see cref="CounterBits"/> as on <c>PluginMetric</c>: null means the default (CONTRACTS.md).</summary>
public sealed record MetricSample(long DeviceId, string Name, double Value, IReadOnlyDictionary<string, string>? Labels, DateTimeOffset Ts,
    string? Kind = null, int? CounterBits = null);
