-- Metrics store v2 (issue 12): a series dictionary, a narrow hot table, compacted blocks and
-- 5-minute / 1-hour rollups. Every table is keyed by device_id first and has no foreign keys,
-- so each can become a Citus distributed table on device_id, colocated (docs/scale.md).
--
-- The old `metrics` table stays until its rows have been moved (MetricsBackfill, run by the
-- migration runner under its advisory lock, in batches); nothing writes it any more.

-- One row per (device, metric name, label set). Labels are stored once, here.
CREATE SEQUENCE metric_series_id_seq AS bigint;
CREATE TABLE metric_series (
    device_id     bigint NOT NULL,
    id            bigint NOT NULL DEFAULT nextval('metric_series_id_seq'),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 256),
    labels        jsonb NOT NULL DEFAULT '{}',
    kind          text NOT NULL CHECK (kind IN ('gauge', 'counter')),
    counter_bits  smallint CHECK (counter_bits IN (32, 64)),
    first_seen_at timestamptz NOT NULL,
    -- Raised by compaction; the API adds the newest hot sample (MetricsSql.SeriesList).
    last_seen_at  timestamptz NOT NULL,
    PRIMARY KEY (device_id, id),
    UNIQUE (device_id, name, labels),
    CHECK ((kind = 'counter') = (counter_bits IS NOT NULL))
);
ALTER SEQUENCE metric_series_id_seq OWNED BY metric_series.id;

-- The hot table: samples land here by COPY. Compaction moves closed windows into metric_blocks;
-- it only takes windows that closed more than an hour ago, so the newest 3 hours of every
-- series are always here.
CREATE TABLE metric_samples (
    device_id bigint NOT NULL,
    series_id bigint NOT NULL,
    ts        timestamptz NOT NULL,
    value     double precision NOT NULL
) PARTITION BY RANGE (ts);
CREATE INDEX metric_samples_series_ts ON metric_samples (device_id, series_id, ts);
-- Tiny (a few pages per GB): lets compaction find a window's rows and stragglers by time.
CREATE INDEX metric_samples_ts_brin ON metric_samples USING brin (ts);
CREATE TABLE metric_samples_default PARTITION OF metric_samples DEFAULT;

-- One row per series and compaction window: its samples encoded (MetricsBlockCodec: delta-of-
-- delta timestamps and XOR floats). start_ts/end_ts are the first and last sample's times;
-- last_value serves /metrics/latest and the counter increase across the window boundary.
CREATE TABLE metric_blocks (
    device_id    bigint NOT NULL,
    series_id    bigint NOT NULL,
    window_start timestamptz NOT NULL,
    start_ts     timestamptz NOT NULL,
    end_ts       timestamptz NOT NULL,
    sample_count integer NOT NULL,
    last_value   double precision NOT NULL,
    data         bytea NOT NULL,
    PRIMARY KEY (device_id, series_id, window_start)
) PARTITION BY RANGE (window_start);
ALTER TABLE metric_blocks ALTER COLUMN data SET STORAGE EXTERNAL; -- already compressed
CREATE TABLE metric_blocks_default PARTITION OF metric_blocks DEFAULT;

-- Rollups, like RRD archives: one row per series and bucket. avg = sum / sample_count.
-- increase is the increase over the intervals that END in the bucket (the first of them may start
-- in the previous bucket): nms_counter_delta for counters, the plain difference for gauges;
-- increase_seconds is their total length. rate = increase / increase_seconds; buckets add up.
CREATE TABLE metric_rollups_5m (
    device_id        bigint NOT NULL,
    series_id        bigint NOT NULL,
    bucket           timestamptz NOT NULL,
    sample_count     integer NOT NULL,
    min              double precision NOT NULL,
    max              double precision NOT NULL,
    sum              double precision NOT NULL,
    last             double precision NOT NULL,
    increase         double precision,
    increase_seconds double precision,
    PRIMARY KEY (device_id, series_id, bucket)
) PARTITION BY RANGE (bucket);
CREATE TABLE metric_rollups_5m_default PARTITION OF metric_rollups_5m DEFAULT;

CREATE TABLE metric_rollups_1h (LIKE metric_rollups_5m INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (bucket);
ALTER TABLE metric_rollups_1h ADD PRIMARY KEY (device_id, series_id, bucket);
CREATE TABLE metric_rollups_1h_default PARTITION OF metric_rollups_1h DEFAULT;

-- Compaction's progress: every window before compacted_until has been compacted once.
CREATE TABLE metric_compaction (
    id              smallint PRIMARY KEY CHECK (id = 1),
    compacted_until timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);

-- The increase between two consecutive samples of a counter. The one definition of reset-aware
-- counter arithmetic: the metrics API's rate/increase, rollups and alerting all call it.
--   cur >= prev               -> cur - prev
--   cur <  prev, bits = 32 and prev >= 2^31
--                             -> a 32-bit wrap: cur + 2^32 - prev
--   cur <  prev otherwise     -> a reset (device restart, counter cleared): the counter restarted
--                                from 0, so the increase is cur (Prometheus' rule)
--   prev IS NULL              -> NULL (no interval yet)
-- A 32-bit counter below 2^31 that goes down is taken as a reset, not a wrap: a wrap can only
-- follow a value in the upper half unless more than 2^31 units passed in one interval.
CREATE FUNCTION nms_counter_delta(prev double precision, cur double precision, bits smallint)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN prev IS NULL OR cur IS NULL THEN NULL
    WHEN cur >= prev THEN cur - prev
    WHEN bits = 32 AND prev >= 2147483648 AND prev < 4294967296 THEN cur + 4294967296 - prev
    ELSE cur
END;

-- Range partitions of any v2 table: parent_pYYYYMMDD covering [lower, lower + width), with lower
-- aligned on width from 2000-01-03 (a Monday). Rows the default caught for that range move in.
-- Safe to call concurrently.
CREATE FUNCTION nms_ensure_range_partition(parent text, key text, width interval, at timestamptz)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    lower timestamptz := date_bin(width, at, timestamptz '2000-01-03 00:00:00+00');
    upper timestamptz := lower + width;
    part  text := parent || '_p' || to_char(lower AT TIME ZONE 'UTC', 'YYYYMMDD');
BEGIN
    PERFORM pg_advisory_xact_lock(5136160953608531);
    IF to_regclass(part) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('LOCK TABLE %I IN EXCLUSIVE MODE', parent || '_default');
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part, parent);
    EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= %L AND %I < %L RETURNING *) INSERT INTO %I SELECT * FROM moved',
                   parent || '_default', key, lower, key, upper, part);
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', parent, part, lower, upper);
    RETURN true;
END;
$$;

-- Retention in O(1): drops whole partitions whose range ends at or before cutoff, and deletes
-- what the default partition holds before it (normally nothing).
CREATE FUNCTION nms_drop_range_partitions(parent text, key text, width interval, cutoff timestamptz)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    part    record;
    dropped integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(5136160953608531);
    FOR part IN
        SELECT c.relname
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = parent::regclass
          AND c.relname ~ ('^' || parent || '_p[0-9]{8}$')
          AND (to_date(right(c.relname, 8), 'YYYYMMDD')::timestamp AT TIME ZONE 'UTC') + width <= cutoff
    LOOP
        EXECUTE format('DROP TABLE %I', part.relname);
        dropped := dropped + 1;
    END LOOP;
    EXECUTE format('DELETE FROM %I WHERE %I < %L', parent || '_default', key, cutoff);
    RETURN dropped;
END;
$$;
