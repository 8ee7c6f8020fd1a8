-- Daily partitions of metrics, created ahead by the writer and the maintenance timer.
--
-- metrics_default is a safety net: a sample whose ts falls on a day with no partition yet
-- (a plugin with a skewed clock, or the first write racing the maintenance timer) lands there
-- instead of failing the whole COPY and sending its batch to the poison queue. Creating a day's
-- partition moves any rows the default holds for that day into it, so the default stays small.

CREATE TABLE IF NOT EXISTS metrics_default PARTITION OF metrics DEFAULT;

-- Creates metrics_pYYYYMMDD for one UTC day if missing. Safe to call concurrently.
CREATE OR REPLACE FUNCTION nms_ensure_metrics_partition(day date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    part  text := 'metrics_p' || to_char(day, 'YYYYMMDD');
    lower timestamptz := (day::timestamp AT TIME ZONE 'UTC');
    upper timestamptz := ((day + 1)::timestamp AT TIME ZONE 'UTC');
BEGIN
    -- One creator at a time; others wait, then see the partition.
    PERFORM pg_advisory_xact_lock(5136160953608530);
    IF to_regclass(part) IS NOT NULL THEN
        RETURN false;
    END IF;
    -- No sample may land in the default for this day between the move and the attach.
    LOCK TABLE metrics_default IN EXCLUSIVE MODE;
    EXECUTE format('CREATE TABLE %I (LIKE metrics INCLUDING DEFAULTS)', part);
    EXECUTE format('WITH moved AS (DELETE FROM metrics_default WHERE ts >= %L AND ts < %L RETURNING device_id, name, labels, value, ts)
                    INSERT INTO %I (device_id, name, labels, value, ts) SELECT device_id, name, labels, value, ts FROM moved',
                   lower, upper, part);
    EXECUTE format('ALTER TABLE metrics ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part, lower, upper);
    RETURN true;
END;
$$;

-- Drops daily partitions whose whole day is before cutoff, and old rows of the default.
CREATE OR REPLACE FUNCTION nms_drop_metrics_partitions(cutoff date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    part    record;
    dropped integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(5136160953608530);
    FOR part IN
        SELECT c.relname
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'metrics'::regclass
          AND c.relname ~ '^metrics_p[0-9]{8}$'
          AND to_date(substr(c.relname, 10), 'YYYYMMDD') < cutoff
    LOOP
        EXECUTE format('DROP TABLE %I', part.relname);
        dropped := dropped + 1;
    END LOOP;
    DELETE FROM metrics_default WHERE ts < (cutoff::timestamp AT TIME ZONE 'UTC');
    RETURN dropped;
END;
$$;
