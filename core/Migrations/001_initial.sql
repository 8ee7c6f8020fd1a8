-- The whole first schema. Later features add numbered files; never edit an applied one.

CREATE TABLE api_keys (
    id           uuid PRIMARY KEY,
    name         text NOT NULL,
    role         text NOT NULL CHECK (role IN ('reader', 'operator', 'admin')),
    key_prefix   text NOT NULL,
    key_hash     bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    last_used_at timestamptz
);

CREATE TABLE credential_profiles (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name              text NOT NULL UNIQUE,
    protocol          text NOT NULL CHECK (protocol IN ('snmp_v2c', 'snmp_v3', 'ssh')),
    -- Non-secret settings (user names, auth and priv protocols), readable by the API.
    settings          jsonb NOT NULL DEFAULT '{}',
    -- AES-GCM sealed JSON of the secret fields; key_id names the key it was sealed under.
    secret_ciphertext bytea NOT NULL,
    secret_key_id     text NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);

CREATE TABLE discovery_profiles (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                 text NOT NULL UNIQUE,
    target               text NOT NULL,
    port                 integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
    plugin               text NOT NULL,
    ping_precheck        boolean NOT NULL DEFAULT false,
    timeout_ms           integer NOT NULL CHECK (timeout_ms BETWEEN 100 AND 60000),
    poll_interval_seconds integer NOT NULL DEFAULT 60 CHECK (poll_interval_seconds BETWEEN 10 AND 86400),
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);

-- Ordered credentials of a discovery profile; RESTRICT makes "still referenced" a 409.
CREATE TABLE discovery_profile_credentials (
    discovery_profile_id  bigint NOT NULL REFERENCES discovery_profiles (id) ON DELETE CASCADE,
    position              integer NOT NULL,
    credential_profile_id bigint NOT NULL REFERENCES credential_profiles (id) ON DELETE RESTRICT,
    PRIMARY KEY (discovery_profile_id, position)
);
CREATE INDEX discovery_profile_credentials_credential ON discovery_profile_credentials (credential_profile_id);

CREATE TABLE discovery_runs (
    id                   uuid PRIMARY KEY,
    discovery_profile_id bigint NOT NULL REFERENCES discovery_profiles (id) ON DELETE CASCADE,
    status               text NOT NULL CHECK (status IN ('queued', 'running', 'completed')),
    targets              integer NOT NULL,
    batches_total        integer NOT NULL,
    batches_done         integer NOT NULL DEFAULT 0,
    responded            integer NOT NULL DEFAULT 0,
    provisioned          integer NOT NULL DEFAULT 0,
    already_known        integer NOT NULL DEFAULT 0,
    failed               integer NOT NULL DEFAULT 0,
    failure_samples      jsonb NOT NULL DEFAULT '[]',
    created_at           timestamptz NOT NULL,
    started_at           timestamptz,
    finished_at          timestamptz
);
CREATE INDEX discovery_runs_profile ON discovery_runs (discovery_profile_id, created_at DESC);

-- One row per processed batch: a redelivered batch finds its row and changes nothing.
CREATE TABLE discovery_run_batches (
    run_id       uuid NOT NULL REFERENCES discovery_runs (id) ON DELETE CASCADE,
    batch_no     integer NOT NULL,
    completed_at timestamptz NOT NULL,
    PRIMARY KEY (run_id, batch_no)
);

CREATE TABLE devices (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ip                     inet NOT NULL,
    port                   integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
    hostname               text,
    description            text,
    plugin                 text NOT NULL,
    credential_profile_id  bigint REFERENCES credential_profiles (id) ON DELETE RESTRICT,
    discovery_profile_id   bigint REFERENCES discovery_profiles (id) ON DELETE SET NULL,
    poll_interval_seconds  integer NOT NULL CHECK (poll_interval_seconds BETWEEN 10 AND 86400),
    status                 text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    deactivation_reason    text,
    deactivation_error     text,
    deactivated_at         timestamptz,
    failure_count          integer NOT NULL DEFAULT 0,
    last_failure_at        timestamptz,
    last_failure_reason    text,
    last_failure_error     text,
    failure_window_seconds integer CHECK (failure_window_seconds > 0),
    failure_threshold      integer CHECK (failure_threshold > 0),
    -- SSH host key recorded at discovery and verified at every poll.
    host_key               text,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    CONSTRAINT devices_ip_port_unique UNIQUE (ip, port)
);
CREATE INDEX devices_status ON devices (status, id);
CREATE INDEX devices_plugin ON devices (plugin, id);

-- The seed's DeadlineQueue: one row per active device. Deactivating or deleting a device
-- removes its row in the same transaction, so the scheduler can never pop it again.
CREATE TABLE poll_schedule (
    device_id   bigint PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    next_due_at timestamptz NOT NULL
);
CREATE INDEX poll_schedule_due ON poll_schedule (next_due_at);

CREATE TABLE metrics (
    device_id bigint NOT NULL,
    name      text NOT NULL,
    labels    jsonb NOT NULL DEFAULT '{}',
    value     double precision NOT NULL,
    ts        timestamptz NOT NULL
) PARTITION BY RANGE (ts);
CREATE INDEX metrics_device_name_ts ON metrics (device_id, name, ts);

-- Batch ids written in the same transaction as their COPY: a redelivered batch writes nothing.
CREATE TABLE metric_batches (
    batch_id   uuid PRIMARY KEY,
    row_count  integer NOT NULL,
    written_at timestamptz NOT NULL
);

-- Failure events already counted by the health consumer (idempotence under redelivery).
CREATE TABLE failure_events (
    event_id     uuid PRIMARY KEY,
    device_id    bigint NOT NULL,
    reason       text NOT NULL,
    error        text,
    occurred_at  timestamptz NOT NULL,
    processed_at timestamptz NOT NULL
);
CREATE INDEX failure_events_device ON failure_events (device_id, occurred_at DESC);
