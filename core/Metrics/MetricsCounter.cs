namespace Nms.Core.Metrics;

/// <summary>
/// The reset-aware increase between two consecutive samples of a counter, for samples the API has
/// already decoded in memory (raw-tier rate/increase): the same rule as the SQL function
/// <c>nms_counter_delta</c> (050_metrics_v2.sql), which rollups and alerting use. Computing it here
/// saves handing ~100,000 decoded samples back to PostgreSQL per query; MetricsCounterTests runs both
/// over the same edge cases so the two cannot drift apart.
/// </summary>
public static class MetricsCounter
{
    private const double TwoTo31 = 2147483648;
    private const double TwoTo32 = 4294967296;

    /// <summary>cur - prev; a 32-bit wrap from the upper half; otherwise a decrease is a reset (the increase is cur).</summary>
    public static double Delta(double previous, double current, short? bits) =>
        current >= previous ? current - previous
        : bits == 32 && previous >= TwoTo31 && previous < TwoTo32 ? current + TwoTo32 - previous
        : current;
}
