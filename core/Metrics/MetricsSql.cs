namespace Nms.Core.Metrics;

/// <summary>
/// The metrics store's SQL (schema: 050_metrics_v2.sql): writer, compaction, retention, backfill and API.
/// Times are parameters, never now(). Buckets are aligned on <see cref="Origin"/>, as partitions are.
/// </summary>
public static class MetricsSql
{
    public const string Origin = "timestamptz '2000-01-03 00:00:00+00'";

    // ---- writer

    /// <summary>New series of a batch; concurrent writers may race, the unique key decides.</summary>
    public const string InsertSeries = """
        INSERT INTO metric_series (device_id, name, labels, kind, counter_bits, first_seen_at, last_seen_at)
        SELECT d, n, l::jsonb, k, b, t, t
        FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::smallint[], $6::timestamptz[]) AS u(d, n, l, k, b, t)
        ON CONFLICT (device_id, name, labels) DO NOTHING
        """;

    /// <summary>The ids of the given (device, name, labels), by their position in the arrays.</summary>
    public const string SeriesIds = """
        SELECT u.ord, s.id
        FROM unnest($1::bigint[], $2::text[], $3::text[]) WITH ORDINALITY AS u(d, n, l, ord)
        JOIN metric_series s ON s.device_id = u.d AND s.name = u.n AND s.labels = u.l::jsonb
        """;

    /// <summary>
    /// Claims the batch ids of a write group in the COPY's transaction; returns those claimed now. An id
    /// missing from the result was written before (or appears twice in the group: claimed once).
    /// </summary>
    public const string ClaimBatches = """
        INSERT INTO metric_batches (batch_id, row_count, written_at)
        SELECT id, n, $3 FROM unnest($1::uuid[], $2::int[]) AS u(id, n)
        ON CONFLICT (batch_id) DO NOTHING
        RETURNING batch_id
        """;

    /// <summary>One row per (device, poll time): that poll's series ids and values (052_metric_polls.sql).</summary>
    public const string Copy = "COPY metric_polls (device_id, ts, series_ids, series_values) FROM STDIN (FORMAT BINARY)";

    // ---- partitions and retention

    /// <summary>($1 table, $2 key column, $3 width, $4 a time inside the partition).</summary>
    public const string EnsurePartition = "SELECT nms_ensure_range_partition($1, $2, $3, $4)";

    /// <summary>($1 table, $2 key column, $3 width, $4 cutoff): partitions wholly before the cutoff.</summary>
    public const string DropPartitionsBefore = "SELECT nms_drop_range_partitions($1, $2, $3, $4)";

    /// <summary>The old store's daily partitions (030): emptied by the backfill, dropped here.</summary>
    public const string DropOldPartitionsBefore = "SELECT nms_drop_metrics_partitions($1)";

    /// <summary>Batch ids older than raw retention: no queue keeps a message that long.</summary>
    public const string ForgetBatchesBefore = "DELETE FROM metric_batches WHERE written_at < $1";

    // ---- compaction

    public const string TryLockCompaction = "SELECT pg_try_advisory_lock(5136160953608532)";
    public const string UnlockCompaction = "SELECT pg_advisory_unlock(5136160953608532)";

    public const string CompactedUntil = "SELECT compacted_until FROM metric_compaction WHERE id = 1";

    public const string OldestHotSample = "SELECT min(ts) FROM metric_polls";

    public const string SetCompactedUntil = """
        INSERT INTO metric_compaction (id, compacted_until, updated_at) VALUES (1, $1, $2)
        ON CONFLICT (id) DO UPDATE SET compacted_until = greatest(metric_compaction.compacted_until, excluded.compacted_until), updated_at = excluded.updated_at
        """;

    public const string DeviceRange = "SELECT min(device_id), max(device_id) FROM metric_series";

    /// <summary>Hot rows left behind in windows before the watermark ($1 .. $2): late batches.</summary>
    public const string StragglerWindows = """
        SELECT DISTINCT date_bin($3, ts, timestamptz '2000-01-03 00:00:00+00')
        FROM metric_polls WHERE ts >= $1 AND ts < $2
        ORDER BY 1
        """;

    /// <summary>Takes one window's hot polls of devices [$1, $2): the rows returned are exactly the rows removed.</summary>
    public const string TakeHotRows = """
        DELETE FROM metric_polls
        WHERE device_id >= $1 AND device_id < $2 AND ts >= $3 AND ts < $4
        RETURNING device_id, ts, series_ids, series_values
        """;

    /// <summary>Blocks of the same window for these series (a late batch): merged with the new rows, then replaced.</summary>
    public const string TakeBlocks = """
        DELETE FROM metric_blocks
        WHERE device_id >= $1 AND device_id < $2 AND series_id = ANY($3) AND window_start = $4
        RETURNING series_id, data
        """;

    /// <summary>The last sample before the window ($4) per series: the start of the first interval.</summary>
    public const string PreviousSamples = """
        SELECT DISTINCT ON (series_id) series_id, last_value, end_ts
        FROM metric_blocks
        WHERE device_id >= $1 AND device_id < $2 AND series_id = ANY($3) AND window_start >= $4 - interval '1 day' AND window_start < $4
        ORDER BY series_id, window_start DESC
        """;

    /// <summary>The shared timestamps of devices [$1, $2) in window $3.</summary>
    public const string BlockTimes = """
        SELECT device_id, data FROM metric_block_times
        WHERE device_id >= $1 AND device_id < $2 AND window_start = $3
        """;

    public const string InsertBlockTimes = """
        INSERT INTO metric_block_times (device_id, window_start, data)
        SELECT d, $2, data FROM unnest($1::bigint[], $3::bytea[]) AS u(d, data)
        """;

    public const string InsertBlocks = """
        INSERT INTO metric_blocks (device_id, series_id, window_start, start_ts, end_ts, sample_count, last_value, data)
        SELECT d, s, $3, st, et, c, lv, data
        FROM unnest($1::bigint[], $2::bigint[], $4::timestamptz[], $5::timestamptz[], $6::integer[], $7::float8[], $8::bytea[]) AS u(d, s, st, et, c, lv, data)
        """;

    public const string RaiseLastSeen = """
        UPDATE metric_series s SET last_seen_at = u.et
        FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[]) AS u(d, id, et)
        WHERE s.device_id = u.d AND s.id = u.id AND s.last_seen_at < u.et
        """;

    /// <summary>
    /// 5-minute and 1-hour rollups of one window's complete samples ($1..$4, sorted) with each series'
    /// previous sample ($5..$7). Recomputed rows replace what a late batch made stale.
    /// </summary>
    public static readonly string InsertRollups = string.Format(System.Globalization.CultureInfo.InvariantCulture, InsertRollupsTemplate,
        string.Format(System.Globalization.CultureInfo.InvariantCulture, RollupInsert, "metric_rollups_5m", "5 minutes"),
        string.Format(System.Globalization.CultureInfo.InvariantCulture, RollupInsert, "metric_rollups_1h", "1 hour"));

    private const string InsertRollupsTemplate = """
        WITH u AS (
            SELECT u.device_id, u.series_id, u.ts, u.value, m.kind, m.counter_bits,
                   coalesce(lag(u.value) OVER w, p.prev_value) AS prev_value,
                   coalesce(lag(u.ts) OVER w, p.prev_ts) AS prev_ts
            FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::float8[]) AS u(device_id, series_id, ts, value)
            JOIN metric_series m ON m.device_id = u.device_id AND m.id = u.series_id
            LEFT JOIN unnest($5::bigint[], $6::float8[], $7::timestamptz[]) AS p(series_id, prev_value, prev_ts) ON p.series_id = u.series_id
            WINDOW w AS (PARTITION BY u.series_id ORDER BY u.ts)
        ), d AS MATERIALIZED (
            SELECT device_id, series_id, ts, value,
                   CASE WHEN kind = 'counter' THEN nms_counter_delta(prev_value, value, counter_bits) ELSE value - prev_value END AS delta,
                   extract(epoch FROM ts - prev_ts)::float8 AS seconds
            FROM u
        ), r5 AS (
        {0}
            RETURNING 1
        )
        {1}
        """;

    /// <summary>One rollup tier's rows from <c>d</c> of <see cref="InsertRollups"/>: {0} table, {1} bucket width.</summary>
    private const string RollupInsert = """
        INSERT INTO {0} AS r (device_id, series_id, bucket, sample_count, min, max, sum, last, increase, increase_seconds)
            SELECT device_id, series_id, date_bin(interval '{1}', ts, timestamptz '2000-01-03 00:00:00+00'),
                   count(*), min(value), max(value), sum(value), (array_agg(value ORDER BY ts DESC))[1], sum(delta), sum(seconds)
            FROM d GROUP BY 1, 2, 3
            ON CONFLICT (device_id, series_id, bucket) DO UPDATE SET
                sample_count = excluded.sample_count, min = excluded.min, max = excluded.max, sum = excluded.sum,
                last = excluded.last, increase = excluded.increase, increase_seconds = excluded.increase_seconds
        """;

    // ---- encoded rollups (090_metric_rollup_blocks.sql): {0} the plain tier, {1} its encoded table

    /// <summary>Spans ($2 long) of the plain tier {0} that hold buckets before $1: closed spans to encode.</summary>
    public const string PlainRollupSpans = """
        SELECT DISTINCT date_bin($2, bucket, timestamptz '2000-01-03 00:00:00+00')
        FROM {0} WHERE bucket < $1
        ORDER BY 1
        """;

    /// <summary>Takes the plain buckets of devices [$1, $2) in [$3, $4): the rows returned are exactly the rows removed.</summary>
    public const string TakePlainRollups = """
        DELETE FROM {0}
        WHERE device_id >= $1 AND device_id < $2 AND bucket >= $3 AND bucket < $4
        RETURNING device_id, series_id, bucket, sample_count, min, max, sum, last, increase, increase_seconds
        """;

    /// <summary>Takes the encoded rows of span $4 for these series ($3): merged with the plain buckets, then replaced.</summary>
    public const string TakeRollupBlocks = """
        DELETE FROM {1}
        WHERE device_id >= $1 AND device_id < $2 AND series_id = ANY($3) AND span_start = $4
        RETURNING series_id, data
        """;

    public const string InsertRollupBlocks = """
        INSERT INTO {1} (device_id, series_id, span_start, bucket_count, data)
        SELECT d, s, $3, c, data
        FROM unnest($1::bigint[], $2::bigint[], $4::integer[], $5::bytea[]) AS u(d, s, c, data)
        """;

    // ---- backfill of the old store

    /// <summary>Old <c>metrics</c> partitions that still hold rows, oldest first.</summary>
    public const string OldPartitions = """
        SELECT c.relname
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'metrics'::regclass
        ORDER BY c.relname
        """;

    /// <summary>
    /// Moves up to $1 rows of one old partition (named by {0}) into the series dictionary and the hot
    /// table, in one statement: the rows leave the old table in the transaction that writes them anew.
    /// Returns the samples moved.
    /// </summary>
    public const string MoveOldRows = """
        WITH moved AS (
            DELETE FROM {0} WHERE ctid = ANY (ARRAY (SELECT ctid FROM {0} LIMIT $1))
            RETURNING device_id, name, labels, value, ts
        ), series AS (
            INSERT INTO metric_series AS s (device_id, name, labels, kind, counter_bits, first_seen_at, last_seen_at)
            SELECT device_id, name, labels,
                   CASE WHEN name LIKE '%\_total' THEN 'counter' ELSE 'gauge' END,
                   CASE WHEN name LIKE '%\_total' THEN 64 END,
                   min(ts), max(ts)
            FROM moved GROUP BY device_id, name, labels
            ON CONFLICT (device_id, name, labels) DO UPDATE SET
                first_seen_at = least(s.first_seen_at, excluded.first_seen_at),
                last_seen_at = greatest(s.last_seen_at, excluded.last_seen_at)
            RETURNING device_id, id, name, labels
        )
        , written AS (
            INSERT INTO metric_polls (device_id, ts, series_ids, series_values)
            SELECT m.device_id, m.ts, array_agg(s.id ORDER BY s.id), array_agg(m.value ORDER BY s.id)
            FROM moved m JOIN series s ON s.device_id = m.device_id AND s.name = m.name AND s.labels = m.labels
            GROUP BY m.device_id, m.ts
            RETURNING cardinality(series_ids) AS samples
        )
        SELECT coalesce(sum(samples), 0)::integer FROM written
        """;

    /// <summary>Old hot table (050) partitions left to convert (052), oldest first; the parent last.</summary>
    public const string HotPartitions050 = """
        SELECT c.relname
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = to_regclass('metric_samples_050')
        ORDER BY c.relname
        """;

    /// <summary>
    /// Moves up to $1 rows of one partition of the old one-row-per-sample hot table (named by {0}) into
    /// metric_polls, grouped per (device, time), in one statement. A poll split across two batches
    /// becomes two rows: readers take every row of a (device, time).
    /// </summary>
    public const string MoveHotRows050 = """
        WITH moved AS (
            DELETE FROM {0} WHERE ctid = ANY (ARRAY (SELECT ctid FROM {0} LIMIT $1))
            RETURNING device_id, series_id, ts, value
        )
        , written AS (
            INSERT INTO metric_polls (device_id, ts, series_ids, series_values)
            SELECT device_id, ts, array_agg(series_id ORDER BY series_id), array_agg(value ORDER BY series_id)
            FROM moved GROUP BY device_id, ts
            RETURNING cardinality(series_ids) AS samples
        )
        SELECT coalesce(sum(samples), 0)::integer FROM written
        """;

    // ---- API

    public const string DeviceExists = "SELECT EXISTS (SELECT 1 FROM devices WHERE id = $1)";

    /// <summary>A device's series, optionally one name ($2), whose labels contain $3.</summary>
    public const string MatchSeries = """
        SELECT id, name, labels::text, kind, counter_bits
        FROM metric_series
        WHERE device_id = $1 AND ($2::text IS NULL OR name = $2) AND labels @> $3::jsonb
        ORDER BY name, labels::text
        """;

    /// <summary>Every series of a device with first/last seen (last: the newest hot sample if newer).</summary>
    public const string SeriesList = """
        SELECT s.name, s.labels::text, s.kind, s.counter_bits, s.first_seen_at,
               greatest(s.last_seen_at, (SELECT h.ts FROM metric_polls h WHERE h.device_id = s.device_id AND h.series_ids @> ARRAY[s.id] ORDER BY h.ts DESC LIMIT 1))
        FROM metric_series s
        WHERE s.device_id = $1
        ORDER BY s.name, s.labels::text
        LIMIT $2
        """;

    /// <summary>Hot samples of some series in [$3, $4): the device's polls in range, unnested.</summary>
    public const string HotRows = """
        SELECT u.series_id, h.ts, u.value
        FROM metric_polls h
        CROSS JOIN LATERAL unnest(h.series_ids, h.series_values) AS u(series_id, value)
        WHERE h.device_id = $1 AND h.ts >= $3 AND h.ts < $4 AND u.series_id = ANY($2)
        """;

    /// <summary>
    /// Blocks of some series overlapping [$3, $4) with their device's shared times ($5: the window
    /// length, for partition pruning). The window range is repeated on t: the join's equality alone
    /// does not prune metric_block_times, so every retained day's partition would be probed.
    /// </summary>
    public const string Blocks = """
        SELECT b.series_id, b.data, t.data
        FROM metric_blocks b
        LEFT JOIN metric_block_times t ON t.device_id = b.device_id AND t.window_start = b.window_start
            AND t.window_start > $3 - $5 AND t.window_start < $4
        WHERE b.device_id = $1 AND b.series_id = ANY($2) AND b.window_start > $3 - $5 AND b.window_start < $4
          AND b.end_ts >= $3 AND b.start_ts < $4
        """;

    /// <summary>Plain rollup buckets of some series in [$3, $4): the {0} table.</summary>
    public const string PlainRollups = """
        SELECT series_id, bucket, sample_count, min, max, sum, last, increase, increase_seconds
        FROM {0}
        WHERE device_id = $1 AND series_id = ANY($2) AND bucket >= $3 AND bucket < $4
        """;

    /// <summary>Encoded rollup spans of some series overlapping [$3, $4) ($5: the span length): the {1} table.</summary>
    public const string RollupBlocks = """
        SELECT series_id, data
        FROM {1}
        WHERE device_id = $1 AND series_id = ANY($2) AND span_start > $3 - $5 AND span_start < $4
        """;

    /// <summary>The newest sample of each series since $2: the hot index, or the newest block's last value.</summary>
    public const string Latest = """
        SELECT s.name, s.labels::text, l.ts, l.value
        FROM metric_series s
        CROSS JOIN LATERAL (
            SELECT x.ts, x.value FROM (
                (SELECT h.ts, h.series_values[array_position(h.series_ids, s.id)] AS value FROM metric_polls h
                 WHERE h.device_id = s.device_id AND h.ts >= $2 AND h.series_ids @> ARRAY[s.id]
                 ORDER BY h.ts DESC LIMIT 1)
                UNION ALL
                (SELECT b.end_ts, b.last_value FROM metric_blocks b
                 WHERE b.device_id = s.device_id AND b.series_id = s.id AND b.window_start > $2 - $4 AND b.end_ts >= $2
                 ORDER BY b.window_start DESC LIMIT 1)
            ) x ORDER BY x.ts DESC LIMIT 1
        ) l
        WHERE s.device_id = $1
        ORDER BY s.name, s.labels::text
        LIMIT $3
        """;
}
