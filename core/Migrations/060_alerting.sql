-- Alerting (issue 14): device tags, rules, alert instances and their history, notification
-- channels and the notification outbox, maintenance windows and silences.

-- Owned by alerting (CONTRACTS.md). Several values per key are allowed (role=core, role=edge).
CREATE TABLE device_tags (
    device_id bigint NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    key       text NOT NULL,
    value     text NOT NULL,
    PRIMARY KEY (device_id, key, value)
);
CREATE INDEX device_tags_key_value ON device_tags (key, value, device_id);

-- Tags a discovery profile gives the devices it provisions.
CREATE TABLE discovery_profile_tags (
    discovery_profile_id bigint NOT NULL REFERENCES discovery_profiles (id) ON DELETE CASCADE,
    key                  text NOT NULL,
    value                text NOT NULL,
    PRIMARY KEY (discovery_profile_id, key, value)
);

CREATE TABLE notification_channels (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                    text NOT NULL UNIQUE,
    kind                    text NOT NULL CHECK (kind IN ('webhook', 'slack', 'teams', 'email')),
    -- Non-secret settings (SMTP host, port, security, user, from, to), returned by the API.
    settings                jsonb NOT NULL DEFAULT '{}',
    -- AES-GCM sealed JSON of the secret fields (URL, signing secret, SMTP password), as credential profiles.
    secret_ciphertext       bytea NOT NULL,
    secret_key_id           text NOT NULL,
    -- Routing: the channel selects rules by severity and device tags (all of them) when route_all is set.
    route_all               boolean NOT NULL DEFAULT false,
    min_severity            text NOT NULL DEFAULT 'info' CHECK (min_severity IN ('info', 'warning', 'critical')),
    match_tags              text[] NOT NULL DEFAULT '{}',
    send_resolved           boolean NOT NULL DEFAULT true,
    repeat_interval_seconds integer NOT NULL DEFAULT 14400 CHECK (repeat_interval_seconds >= 60),
    last_delivered_at       timestamptz,
    last_delivery_error     text,
    last_delivery_error_at  timestamptz,
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL
);

CREATE TABLE alert_rules (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                 text NOT NULL UNIQUE,
    kind                 text NOT NULL CHECK (kind IN ('device_down', 'interface_down', 'threshold')),
    severity             text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    enabled              boolean NOT NULL DEFAULT true,
    -- Scope: every device when both are empty; else devices with all these tags ("key=value"), or these ids.
    scope_tags           text[] NOT NULL DEFAULT '{}',
    scope_device_ids     bigint[] NOT NULL DEFAULT '{}',
    for_seconds          integer NOT NULL DEFAULT 0 CHECK (for_seconds >= 0),
    -- device_down: also fire after this many consecutive failures before deactivation (null: only on deactivation).
    failure_count        integer CHECK (failure_count > 0),
    -- threshold: metric, label matcher, function over the window, comparison and recovery (hysteresis).
    metric               text,
    labels               jsonb NOT NULL DEFAULT '{}',
    fn                   text CHECK (fn IN ('value', 'rate', 'avg', 'min', 'max')),
    window_seconds       integer NOT NULL DEFAULT 300 CHECK (window_seconds > 0),
    op                   text CHECK (op IN ('>', '>=', '<', '<=')),
    threshold            double precision,
    recovery_op          text CHECK (recovery_op IN ('>', '>=', '<', '<=')),
    recovery_threshold   double precision,
    allow_unknown_metric boolean NOT NULL DEFAULT false,
    channel_ids          bigint[] NOT NULL DEFAULT '{}',
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);

-- One instance per fault: per (rule, device, label set) at most one open (pending or firing);
-- resolved ones stay as history until the retention removes them.
CREATE TABLE alert_instances (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_id           bigint NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    device_id         bigint NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    labels            jsonb NOT NULL DEFAULT '{}',
    state             text NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
    severity          text NOT NULL,
    value             double precision,
    reason            text,
    pending_since     timestamptz NOT NULL,
    fired_at          timestamptz,
    resolved_at       timestamptz,
    last_evaluated_at timestamptz NOT NULL,
    acknowledged_by   text,
    acknowledged_at   timestamptz,
    ack_comment       text
);
CREATE UNIQUE INDEX alert_instances_open ON alert_instances (rule_id, device_id, labels) WHERE state <> 'resolved';
CREATE INDEX alert_instances_state ON alert_instances (state, id);
CREATE INDEX alert_instances_device ON alert_instances (device_id);
CREATE INDEX alert_instances_resolved_at ON alert_instances (resolved_at) WHERE state = 'resolved';

CREATE TABLE alert_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    instance_id bigint NOT NULL REFERENCES alert_instances (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('pending', 'firing', 'resolved', 'acknowledged', 'notification_suppressed')),
    detail      text,
    at          timestamptz NOT NULL
);
CREATE INDEX alert_events_instance ON alert_events (instance_id, at);

-- The outbox: one row per (alert instance, transition, channel), written in the evaluation's
-- transaction. enqueued_at is set once the row's group is on the notifications queue; a crash
-- before that is caught up by the next evaluation, and the consumer skips delivered rows.
CREATE TABLE alert_notifications (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    instance_id   bigint NOT NULL REFERENCES alert_instances (id) ON DELETE CASCADE,
    transition    text NOT NULL,
    channel_id    bigint NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
    evaluation_id uuid NOT NULL,
    created_at    timestamptz NOT NULL,
    enqueued_at   timestamptz,
    delivered_at  timestamptz,
    attempts      integer NOT NULL DEFAULT 0,
    last_error    text,
    UNIQUE (instance_id, transition, channel_id)
);
CREATE INDEX alert_notifications_unqueued ON alert_notifications (evaluation_id, channel_id) WHERE enqueued_at IS NULL;
CREATE INDEX alert_notifications_channel ON alert_notifications (channel_id, instance_id, created_at DESC);

CREATE TABLE maintenance_windows (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                  text NOT NULL UNIQUE,
    kind                  text NOT NULL CHECK (kind IN ('one_off', 'weekly', 'cron')),
    starts_at             timestamptz,
    ends_at               timestamptz,
    weekdays              integer[] NOT NULL DEFAULT '{}',
    start_time            time,
    cron                  text,
    duration_seconds      integer CHECK (duration_seconds > 0),
    time_zone             text NOT NULL DEFAULT 'UTC',
    scope_tags            text[] NOT NULL DEFAULT '{}',
    scope_device_ids      bigint[] NOT NULL DEFAULT '{}',
    suppress_deactivation boolean NOT NULL DEFAULT false,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL
);

CREATE TABLE alert_silences (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    instance_id bigint REFERENCES alert_instances (id) ON DELETE CASCADE,
    rule_id     bigint REFERENCES alert_rules (id) ON DELETE CASCADE,
    device_id   bigint REFERENCES devices (id) ON DELETE CASCADE,
    ends_at     timestamptz NOT NULL,
    created_by  text NOT NULL,
    reason      text NOT NULL,
    created_at  timestamptz NOT NULL,
    CHECK (instance_id IS NOT NULL OR (rule_id IS NOT NULL AND device_id IS NOT NULL))
);
CREATE INDEX alert_silences_ends_at ON alert_silences (ends_at);

-- info < warning < critical, for a channel's minimum severity.
CREATE FUNCTION nms_severity_rank(severity text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT CASE severity WHEN 'critical' THEN 3 WHEN 'warning' THEN 2 ELSE 1 END $$;

-- True when the device carries every one of the "key=value" tags (an empty list matches every device).
CREATE FUNCTION nms_device_has_tags(device bigint, tags text[]) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT cardinality(tags) = 0
        OR (SELECT count(*) FROM device_tags t WHERE t.device_id = device AND t.key || '=' || t.value = ANY (tags)) = cardinality(tags)
$$;

-- value <op> threshold for the four comparison operators rules use.
CREATE FUNCTION nms_alert_compare(value double precision, op text, threshold double precision) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE op WHEN '>' THEN value > threshold WHEN '>=' THEN value >= threshold
                   WHEN '<' THEN value < threshold WHEN '<=' THEN value <= threshold END
$$;
