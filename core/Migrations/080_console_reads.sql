-- Reads the operator console makes on every overview refresh: recent transitions and runs in progress.

-- Manual deactivations of the last day (GET /api/device_health/transitions).
CREATE INDEX devices_deactivated_at ON devices (deactivated_at DESC) WHERE status = 'inactive';

-- The health log by time alone, both kinds together.
CREATE INDEX device_health_events_at ON device_health_events (at DESC);

-- Every profile's runs, newest first, and the unfinished ones (GET /api/discovery_runs).
CREATE INDEX discovery_runs_created ON discovery_runs (created_at DESC);
CREATE INDEX discovery_runs_unfinished ON discovery_runs (created_at DESC) WHERE status <> 'completed';
