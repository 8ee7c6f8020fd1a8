-- The timestamps a device's series share in one compaction window, stored once (issue 12).
-- One poll writes every series of a device with the same timestamp, so their blocks would repeat
-- the same (jittered) timestamps 50 times. A block whose series has exactly these timestamps
-- stores only its values (MetricsBlockCodec format 2); others keep their own (format 1).
CREATE TABLE metric_block_times (
    device_id    bigint NOT NULL,
    window_start timestamptz NOT NULL,
    data         bytea NOT NULL,
    PRIMARY KEY (device_id, window_start)
) PARTITION BY RANGE (window_start);
ALTER TABLE metric_block_times ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE TABLE metric_block_times_default PARTITION OF metric_block_times DEFAULT;
