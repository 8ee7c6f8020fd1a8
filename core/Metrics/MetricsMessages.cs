namespace Nms.Core.Metrics;

/// <summary>
/// Poll results on the <c>metrics</c> queue; BatchId makes the writer idempotent. <see cref="TraceParent"/>: the W3C
/// trace context of the poll that took them (optional: older messages have none).
/// </summary>
public sealed record MetricsBatchMessage(Guid BatchId, IReadOnlyList<MetricSample> Samples, string? TraceParent = null);

/// <summary>
/// One sample. <see cref="Kind"/> is <c>gauge</c> or <c>counter</c>; when absent a name ending in
/// <c>_total</c> is a counter. <see cref="CounterBits"/> (32 or 64) only for counters; absent = 64.
/// </summary>
public sealed record MetricSample(
    long DeviceId,
    string Name,
    double Value,
    IReadOnlyDictionary<string, string>? Labels,
    DateTimeOffset Ts,
    string? Kind = null,
    int? CounterBits = null);

public static class MetricKinds
{
    public const string Gauge = "gauge";
    public const string Counter = "counter";

    /// <summary>The kind and counter width a series is stored with (CONTRACTS.md's defaults).</summary>
    public static (string Kind, short? CounterBits) Resolve(string name, string? kind, int? counterBits)
    {
        var resolved = kind is Gauge or Counter ? kind : name.EndsWith("_total", StringComparison.Ordinal) ? Counter : Gauge;
        return resolved == Counter ? (Counter, counterBits == 32 ? (short)32 : (short)64) : (Gauge, null);
    }
}
