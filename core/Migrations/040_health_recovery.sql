-- Health monitoring: the recovery probe's bookkeeping and a log of health transitions.

-- Set by the health consumer when it deactivates a device (reason ping/poll); the recovery probe
-- only looks at inactive devices whose recovery_next_probe_at is due. An operator's reactivation
-- (status = 'active') makes these columns inert; the next deactivation sets them afresh.
ALTER TABLE devices
    ADD COLUMN recovery_attempts      integer NOT NULL DEFAULT 0,
    ADD COLUMN recovery_next_probe_at timestamptz,
    ADD COLUMN recovery_last_probe_at timestamptz,
    ADD COLUMN recovery_last_error    text,
    ADD COLUMN reactivated_at         timestamptz,
    ADD COLUMN reactivation_reason    text;

CREATE INDEX devices_recovery_due ON devices (recovery_next_probe_at)
    WHERE status = 'inactive' AND recovery_next_probe_at IS NOT NULL;

-- Every deactivation by the health consumer and every reactivation by the recovery probe,
-- written in the same transaction as the change itself. Read by GET /api/device_health.
CREATE TABLE device_health_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id   bigint NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('deactivated', 'reactivated')),
    reason      text NOT NULL,
    error       text,
    at          timestamptz NOT NULL
);
CREATE INDEX device_health_events_kind_at ON device_health_events (kind, at DESC);
CREATE INDEX device_health_events_device ON device_health_events (device_id);

-- The recovery timer forgets processed failure event ids past their retention.
CREATE INDEX failure_events_processed_at ON failure_events (processed_at);
