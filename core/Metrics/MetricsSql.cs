namespace Nms.Core.Metrics;

/// <summary>The metrics writer's, maintenance's and API's SQL. Times are parameters, never now().</summary>
public static class MetricsSql
{
    /// <summary>Claims a batch id in the COPY's transaction: 0 rows affected means it was written before.</summary>
    public const string ClaimBatch = """
        INSERT INTO metric_batches (batch_id, row_count, written_at)
        VALUES ($1, $2, $3)
        ON CONFLICT (batch_id) DO NOTHING
        """;

    public const string Copy = "COPY metrics (device_id, name, labels, value, ts) FROM STDIN (FORMAT BINARY)";

    /// <summary>Creates one UTC day's partition if missing (see 030_metrics_partitions.sql).</summary>
    public const string EnsurePartition = "SELECT nms_ensure_metrics_partition($1)";

    /// <summary>Drops whole-day partitions before $1 and the default partition's rows before it.</summary>
    public const string DropPartitionsBefore = "SELECT nms_drop_metrics_partitions($1)";

    /// <summary>Batch ids older than retention: their rows are gone and no queue keeps a message that long.</summary>
    public const string ForgetBatchesBefore = "DELETE FROM metric_batches WHERE written_at < $1";

    public const string DeviceExists = "SELECT EXISTS (SELECT 1 FROM devices WHERE id = $1)";

    /// <summary>Raw samples of one device in [$2, $3), optionally one metric name, oldest first, at most $5 rows.</summary>
    public const string Raw = """
        SELECT name, labels::text, ts, value
        FROM metrics
        WHERE device_id = $1 AND ts >= $2 AND ts < $3 AND ($4::text IS NULL OR name = $4)
        ORDER BY ts, name
        LIMIT $5
        """;

    /// <summary>Samples bucketed into $6-second steps aligned on $2: avg, min, max and count per series and bucket.</summary>
    public const string Bucketed = """
        SELECT name, labels::text, date_bin(make_interval(secs => $6), ts, $2) AS bucket,
               avg(value), min(value), max(value), count(*)
        FROM metrics
        WHERE device_id = $1 AND ts >= $2 AND ts < $3 AND ($4::text IS NULL OR name = $4)
        GROUP BY name, labels, bucket
        ORDER BY bucket, name
        LIMIT $5
        """;

    /// <summary>The newest sample of each series (name + labels) of one device since $2, at most $3 series.</summary>
    public const string Latest = """
        SELECT DISTINCT ON (name, labels) name, labels::text, ts, value
        FROM metrics
        WHERE device_id = $1 AND ts >= $2
        ORDER BY name, labels, ts DESC
        LIMIT $3
        """;
}
