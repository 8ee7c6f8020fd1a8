namespace Nms.Tests.Alerting;

/// <summary>Samples for the evaluator's tests, in the v2 store's shape (what MetricsWriter leaves behind).</summary>
internal static class MetricsStoreSql
{
    /// <summary>$1 device, $2 name, $3 labels (json), $4 value, $5 ts. Kind by the contract's rule: counter when the name ends in _total.</summary>
    public const string Sample = """
        WITH series AS (
            INSERT INTO metric_series (device_id, name, labels, kind, counter_bits, first_seen_at, last_seen_at)
            VALUES ($1, $2, $3::jsonb, CASE WHEN $2 LIKE '%\_total' THEN 'counter' ELSE 'gauge' END,
                    CASE WHEN $2 LIKE '%\_total' THEN 64::smallint END, $5, $5)
            ON CONFLICT (device_id, name, labels) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at
            RETURNING id
        )
        INSERT INTO metric_polls (device_id, ts, series_ids, series_values) SELECT $1, $5, ARRAY[id], ARRAY[$4::float8] FROM series
        """;
}
