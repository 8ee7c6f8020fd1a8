-- The hot table becomes one row per (device, poll time) holding that poll's series ids and values
-- as arrays (issue 12: 130 bytes per sample on disk with one row per sample; ~19 this way). One poll
-- stamps all of a device's series alike, so a row carries ~50 samples and pays the tuple header,
-- the line pointer and the index entry once for all of them.
--
-- metric_samples stays as a view with the old columns (device_id, series_id, ts, value), so that
-- "the last 3 h of every series are in metric_samples" still reads as before; the store itself
-- and alerting's evaluation read metric_polls directly.
--
-- Existing hot rows (the old metric_samples, renamed metric_samples_050) are moved into
-- metric_polls after the migrations by MetricsHotConversion, in batches, under the migration lock;
-- it drops the old table when it is empty.
ALTER TABLE metric_samples RENAME TO metric_samples_050;

CREATE TABLE metric_polls (
    device_id     bigint NOT NULL,
    ts            timestamptz NOT NULL,
    series_ids    bigint[] NOT NULL,
    series_values double precision[] NOT NULL,
    CHECK (cardinality(series_ids) = cardinality(series_values))
) PARTITION BY RANGE (ts);
-- (device_id, ts): one entry per poll; serves the API's range reads, latest and compaction's device ranges.
CREATE INDEX metric_polls_device_ts ON metric_polls (device_id, ts);
-- Tiny: lets compaction find a window's rows and late rows by time.
CREATE INDEX metric_polls_ts_brin ON metric_polls USING brin (ts);
CREATE TABLE metric_polls_default PARTITION OF metric_polls DEFAULT;

CREATE VIEW metric_samples AS
SELECT p.device_id, u.series_id, p.ts, u.value
FROM metric_polls p
CROSS JOIN LATERAL unnest(p.series_ids, p.series_values) AS u(series_id, value);
