namespace Nms.Core.Metrics;

/// <summary>PostgreSQL's microsecond timestamps as the block codec stores them.</summary>
public static class MetricsTime
{
    /// <summary>Where buckets and partitions are aligned (a Monday, as in MetricsSql).</summary>
    public static readonly DateTimeOffset Origin = new(2000, 1, 3, 0, 0, 0, TimeSpan.Zero);

    public static long ToMicros(DateTime utc) => (utc.Ticks - DateTime.UnixEpoch.Ticks) / 10;

    public static DateTime FromMicros(long micros) => new(DateTime.UnixEpoch.Ticks + micros * 10, DateTimeKind.Utc);

    public readonly record struct Point(long Micros, double Value);
}
