namespace Nms.Core.Metrics;

/// <summary>Poll results on the <c>metrics</c> queue; BatchId makes the writer idempotent.</summary>
public sealed record MetricsBatchMessage(Guid BatchId, IReadOnlyList<MetricSample> Samples);

/// <summary>Kind and CounterBits are the plugin's <c>kind</c> and <c>counter_bits</c>, carried through unchanged (absent when the plugin said nothing).</summary>
public sealed record MetricSample(
    long DeviceId, string Name, double Value, IReadOnlyDictionary<string, string>? Labels, DateTimeOffset Ts, string? Kind = null, int? CounterBits = null);
