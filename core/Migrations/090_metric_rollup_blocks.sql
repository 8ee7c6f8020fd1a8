-- Encoded rollups (issue 12): the 5-minute and 1-hour tiers as one row per series and closed span
-- (a day of 288 five-minute buckets; a week of 168 hours) holding the buckets' aggregates as
-- Gorilla-encoded columns (MetricsRollupCodec), like metric_blocks holds raw samples. As plain rows
-- (metric_rollups_5m/_1h, one per bucket) the 5-minute tier took 35.8 bytes per raw sample it
-- covers, more than the raw blocks themselves.
--
-- The plain tables stay as the tiers' "hot" part: compaction writes a window's buckets there as
-- before, and once a span is wholly before compaction's watermark it moves the span's plain rows
-- into its encoded row (merging a row already there: a late batch) in one transaction. Existing
-- plain rows move the same way, on the compactor's next run, in batches of devices; nothing is
-- re-derived from raw samples (those are dropped after 14 days, the rollups are kept 90 and 730).
-- Readers take a bucket from the plain table when it is in both (a late batch not yet merged).
--
-- Keyed by device_id first, no foreign keys: Citus-distributable on device_id (docs/scale.md).
-- Partitioned by span_start (7 and 28 days, as the plain tiers): retention drops partitions.
CREATE TABLE metric_rollup_blocks_5m (
    device_id    bigint NOT NULL,
    series_id    bigint NOT NULL,
    span_start   timestamptz NOT NULL,
    bucket_count integer NOT NULL,
    data         bytea NOT NULL,
    PRIMARY KEY (device_id, series_id, span_start)
) PARTITION BY RANGE (span_start);
CREATE TABLE metric_rollup_blocks_5m_default PARTITION OF metric_rollup_blocks_5m DEFAULT;

CREATE TABLE metric_rollup_blocks_1h (LIKE metric_rollup_blocks_5m INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (span_start);
ALTER TABLE metric_rollup_blocks_1h ADD PRIMARY KEY (device_id, series_id, span_start);
CREATE TABLE metric_rollup_blocks_1h_default PARTITION OF metric_rollup_blocks_1h DEFAULT;
