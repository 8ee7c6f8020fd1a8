namespace Nms.Core.Alerting;

/// <summary>Every statement of alerting except those that read metrics (<see cref="AlertMetricsSql"/>). Times are parameters, never now().</summary>
internal static class AlertingSql
{
    /// <summary>Rule r applies to device d: listed ids, or all the tags, or (both empty) every device.</summary>
    public const string RuleScope = "(cardinality(r.scope_device_ids) = 0 OR d.id = ANY (r.scope_device_ids)) AND (cardinality(r.scope_tags) = 0 OR nms_device_has_tags(d.id, r.scope_tags))";

    /// <summary>The keys of open alerts, joined (not probed row by row) so a fleet with many open alerts costs one hash join.</summary>
    public const string OpenKeys = "SELECT rule_id, device_id, labels FROM alert_instances WHERE state <> 'resolved'";

    /// <summary>The evaluation sorts and aggregates the window's samples in memory rather than on disk.</summary>
    public const string EvaluationWorkMem = "SET LOCAL work_mem = '64MB'; SET LOCAL jit = off";

    // ---- tags -------------------------------------------------------------------------------------

    public const string DeviceExists = "SELECT id FROM devices WHERE id = $1";
    public const string LockDevice = "SELECT id FROM devices WHERE id = $1 FOR UPDATE";
    public const string DeviceTags = "SELECT key || '=' || value FROM device_tags WHERE device_id = $1 ORDER BY key, value";
    public const string DeleteDeviceTags = "DELETE FROM device_tags WHERE device_id = $1";
    public const string InsertDeviceTags = "INSERT INTO device_tags (device_id, key, value) SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t(k, v)";

    public const string DiscoveryProfileExists = "SELECT id FROM discovery_profiles WHERE id = $1";
    public const string LockDiscoveryProfile = "SELECT id FROM discovery_profiles WHERE id = $1 FOR UPDATE";
    public const string DiscoveryTags = "SELECT key || '=' || value FROM discovery_profile_tags WHERE discovery_profile_id = $1 ORDER BY key, value";
    public const string DeleteDiscoveryTags = "DELETE FROM discovery_profile_tags WHERE discovery_profile_id = $1";
    public const string InsertDiscoveryTags = "INSERT INTO discovery_profile_tags (discovery_profile_id, key, value) SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t(k, v)";

    // ---- rules ------------------------------------------------------------------------------------

    private const string RuleColumns = """
        id, name, kind, severity, enabled, scope_tags, scope_device_ids, for_seconds, failure_count, metric, labels::text, fn, window_seconds,
        op, threshold, recovery_op, recovery_threshold, allow_unknown_metric, channel_ids, created_at, updated_at
        """;

    public const string InsertRule = """
        INSERT INTO alert_rules (name, kind, severity, enabled, scope_tags, scope_device_ids, for_seconds, failure_count, metric, labels, fn, window_seconds,
                                 op, threshold, recovery_op, recovery_threshold, allow_unknown_metric, channel_ids, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)
        RETURNING id
        """;

    public const string UpdateRule = """
        UPDATE alert_rules SET name = $2, kind = $3, severity = $4, enabled = $5, scope_tags = $6, scope_device_ids = $7, for_seconds = $8,
            failure_count = $9, metric = $10, labels = $11::jsonb, fn = $12, window_seconds = $13, op = $14, threshold = $15, recovery_op = $16,
            recovery_threshold = $17, allow_unknown_metric = $18, channel_ids = $19, updated_at = $20
        WHERE id = $1
        """;

    public const string SelectRule = $"SELECT {RuleColumns} FROM alert_rules WHERE id = $1";
    public const string ListRules = $"SELECT {RuleColumns} FROM alert_rules ORDER BY id";
    public const string DeleteRule = "DELETE FROM alert_rules WHERE id = $1";
    public const string ExistingChannels = "SELECT id FROM notification_channels WHERE id = ANY ($1) FOR KEY SHARE";

    // ---- evaluation -------------------------------------------------------------------------------

    /// <summary>One evaluation at a time across instances (session lock, released at the end of the run).</summary>
    public const string TryLock = "SELECT pg_try_advisory_lock(7514061420260014)";
    public const string Unlock = "SELECT pg_advisory_unlock(7514061420260014)";

    public const string AnalyzeAlerts = "ANALYZE alert_instances, alert_notifications";

    public const string EvaluatedRules = "SELECT id, kind, severity, for_seconds FROM alert_rules WHERE enabled";

    /// <summary>$1 now. Device down: deactivated by the health monitor (ping/poll), or N consecutive failures before that.</summary>
    public const string DeviceDownObservations = $"""
        WITH observed AS (
            SELECT r.id AS rule_id, d.id AS device_id, d.failure_count,
                   (d.status = 'inactive' AND d.deactivation_reason IN ('ping', 'poll'))
                   OR (r.failure_count IS NOT NULL AND d.status = 'active' AND d.failure_count >= r.failure_count) AS down,
                   CASE WHEN d.status = 'inactive'
                        THEN 'deactivated (' || COALESCE(d.deactivation_reason, '') || '): ' || COALESCE(d.deactivation_error, '')
                        ELSE d.failure_count || ' consecutive failures, last ' || COALESCE(d.last_failure_reason, '') || ': ' || COALESCE(d.last_failure_error, '') END AS reason
            FROM alert_rules r
            JOIN devices d ON {RuleScope}
            WHERE r.enabled AND r.kind = 'device_down'
        )
        SELECT b.rule_id, b.device_id, jsonb_build_object()::text, b.failure_count::double precision, b.down, NOT b.down, b.reason
        FROM observed b
        LEFT JOIN ({OpenKeys}) o ON o.rule_id = b.rule_id AND o.device_id = b.device_id
        WHERE b.down OR o.rule_id IS NOT NULL
        """;

    public const string OpenInstances = "SELECT id, rule_id, device_id, labels::text, state, pending_since FROM alert_instances WHERE state <> 'resolved'";

    /// <summary>$1 ids of the maintenance windows active now. The devices they cover.</summary>
    public const string DevicesInMaintenance = $"""
        SELECT DISTINCT d.id
        FROM maintenance_windows r
        JOIN devices d ON {RuleScope}
        WHERE r.id = ANY ($1)
        """;

    /// <summary>$1 now. Silences in force: of one alert instance, or of a rule on a device.</summary>
    public const string ActiveSilences = "SELECT instance_id, rule_id, device_id FROM alert_silences WHERE ends_at > $1";

    /// <summary>$1 rule ids, $2 device ids, $3 labels, $4 states, $5 values, $6 reasons, $7 now, $8 severities.</summary>
    public const string InsertInstances = """
        INSERT INTO alert_instances (rule_id, device_id, labels, state, severity, value, reason, pending_since, fired_at, last_evaluated_at)
        SELECT rule_id, device_id, labels::jsonb, state, severity, value, reason, $7, CASE WHEN state = 'firing' THEN $7 END, $7
        FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::double precision[], $6::text[], $8::text[])
            AS u(rule_id, device_id, labels, state, value, reason, severity)
        RETURNING id, rule_id, device_id, labels::text, state
        """;

    /// <summary>$1 ids, $2 new states, $3 values, $4 reasons, $5 now. fired_at/resolved_at set on the transition.</summary>
    public const string UpdateInstances = """
        UPDATE alert_instances i
        SET state = u.state,
            value = COALESCE(u.value, i.value),
            reason = COALESCE(u.reason, i.reason),
            fired_at = CASE WHEN u.state = 'firing' AND i.state <> 'firing' THEN $5 ELSE i.fired_at END,
            resolved_at = CASE WHEN u.state = 'resolved' THEN $5 ELSE i.resolved_at END,
            last_evaluated_at = $5
        FROM unnest($1::bigint[], $2::text[], $3::double precision[], $4::text[]) AS u(id, state, value, reason)
        WHERE i.id = u.id
        """;

    public const string DeleteInstances = "DELETE FROM alert_instances WHERE id = ANY ($1)";

    /// <summary>$1 instance ids, $2 kinds, $3 details, $4 now.</summary>
    public const string InsertEvents = """
        INSERT INTO alert_events (instance_id, kind, detail, at)
        SELECT instance_id, kind, detail, $4 FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(instance_id, kind, detail)
        """;

    /// <summary>Channel c takes alerts of instance i (rule r): named by the rule, or selected by severity and the device's tags.</summary>
    private const string Routed = """
        (c.id = ANY (r.channel_ids)
         OR (c.route_all AND nms_severity_rank(r.severity) >= nms_severity_rank(c.min_severity) AND (cardinality(c.match_tags) = 0 OR nms_device_has_tags(i.device_id, c.match_tags))))
        """;

    /// <summary>$1 instance ids, $2 transitions (firing/resolved), $3 evaluation id, $4 now. The outbox rows of this evaluation's transitions.</summary>
    public const string InsertNotifications = $"""
        INSERT INTO alert_notifications (instance_id, transition, channel_id, evaluation_id, created_at)
        SELECT i.id, t.transition, c.id, $3, $4
        FROM unnest($1::bigint[], $2::text[]) AS t(instance_id, transition)
        JOIN alert_instances i ON i.id = t.instance_id
        JOIN alert_rules r ON r.id = i.rule_id
        JOIN notification_channels c ON {Routed}
        WHERE t.transition <> 'resolved' OR c.send_resolved
        ON CONFLICT (instance_id, transition, channel_id) DO NOTHING
        """;

    /// <summary>
    /// $1 evaluation id, $2 now, $3 instance ids not to notify (maintenance, silences). Still-firing
    /// alerts whose last notification on a channel is older than its repeat interval notify again.
    /// </summary>
    public const string InsertRepeats = $"""
        INSERT INTO alert_notifications (instance_id, transition, channel_id, evaluation_id, created_at)
        SELECT i.id, 'repeat:' || floor(extract(epoch FROM $2::timestamptz))::bigint, c.id, $1, $2
        FROM alert_instances i
        JOIN alert_rules r ON r.id = i.rule_id
        JOIN notification_channels c ON {Routed}
        WHERE i.state = 'firing' AND i.id <> ALL ($3)
          AND COALESCE((SELECT max(n.created_at) FROM alert_notifications n WHERE n.instance_id = i.id AND n.channel_id = c.id), i.fired_at)
              <= $2 - make_interval(secs => c.repeat_interval_seconds)
        ON CONFLICT (instance_id, transition, channel_id) DO NOTHING
        """;

    /// <summary>Groups (evaluation, channel) whose rows are not on the queue yet: this run's, and any a crash left behind.</summary>
    public const string UnqueuedGroups = "SELECT DISTINCT evaluation_id, channel_id FROM alert_notifications WHERE enqueued_at IS NULL LIMIT 1000";

    public const string MarkEnqueued = "UPDATE alert_notifications SET enqueued_at = $3 WHERE evaluation_id = $1 AND channel_id = $2 AND enqueued_at IS NULL";

    /// <summary>$1 cutoff. Resolved alerts older than the retention go, with their events and notifications.</summary>
    public const string PruneHistory = """
        DELETE FROM alert_instances WHERE id IN (SELECT id FROM alert_instances WHERE state = 'resolved' AND resolved_at < $1 LIMIT 10000)
        """;

    public const string PruneSilences = "DELETE FROM alert_silences WHERE ends_at < $1";

    // ---- delivery -----------------------------------------------------------------------------------

    public const string SelectChannelSecrets = "SELECT kind, name, settings::text, secret_key_id, secret_ciphertext FROM notification_channels WHERE id = $1";

    /// <summary>$1 evaluation id, $2 channel id. The group's undelivered rows, locked: a concurrent duplicate waits, then finds them delivered.</summary>
    public const string LockUndelivered = """
        SELECT n.id, n.transition, i.id, i.state, r.id, r.name, r.kind, i.severity, d.id, host(d.ip), d.hostname, i.labels::text, i.value, i.reason,
               i.fired_at, i.resolved_at
        FROM alert_notifications n
        JOIN alert_instances i ON i.id = n.instance_id
        JOIN alert_rules r ON r.id = i.rule_id
        JOIN devices d ON d.id = i.device_id
        WHERE n.evaluation_id = $1 AND n.channel_id = $2 AND n.delivered_at IS NULL
        ORDER BY n.id
        FOR UPDATE OF n
        """;

    public const string MarkDelivered = "UPDATE alert_notifications SET delivered_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = ANY ($1)";
    public const string MarkFailed = "UPDATE alert_notifications SET attempts = attempts + 1, last_error = $2 WHERE id = ANY ($1)";
    public const string ChannelDelivered = "UPDATE notification_channels SET last_delivered_at = $2 WHERE id = $1";
    public const string ChannelFailed = "UPDATE notification_channels SET last_delivery_error = $2, last_delivery_error_at = $3 WHERE id = $1";

    // ---- channels -------------------------------------------------------------------------------------

    private const string ChannelColumns = """
        id, name, kind, settings::text, route_all, min_severity, match_tags, send_resolved, repeat_interval_seconds, secret_key_id,
        last_delivered_at, last_delivery_error, last_delivery_error_at, created_at, updated_at
        """;

    public const string InsertChannel = $"""
        INSERT INTO notification_channels (name, kind, settings, secret_ciphertext, secret_key_id, route_all, min_severity, match_tags, send_resolved,
                                           repeat_interval_seconds, created_at, updated_at)
        VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10, $11, $11)
        RETURNING {ChannelColumns}
        """;

    public const string UpdateChannel = $"""
        UPDATE notification_channels SET name = $2, kind = $3, settings = $4::jsonb, secret_ciphertext = $5, secret_key_id = $6, route_all = $7,
            min_severity = $8, match_tags = $9, send_resolved = $10, repeat_interval_seconds = $11, updated_at = $12
        WHERE id = $1
        RETURNING {ChannelColumns}
        """;

    public const string SelectChannel = $"SELECT {ChannelColumns} FROM notification_channels WHERE id = $1";
    public const string ListChannels = $"SELECT {ChannelColumns} FROM notification_channels ORDER BY id";
    public const string DeleteChannel = "DELETE FROM notification_channels WHERE id = $1";

    // ---- alerts ---------------------------------------------------------------------------------------

    private const string AlertColumns = """
        i.id, r.id, r.name, r.kind, i.severity, d.id, host(d.ip), d.hostname, i.labels::text, i.state, i.value, i.reason,
        i.pending_since, i.fired_at, i.resolved_at, i.acknowledged_by, i.acknowledged_at, i.ack_comment
        """;

    /// <summary>$1 after id (newest first: id below), $2 state, $3 severity, $4 tag key, $5 tag value, $6 device id, $7 limit.</summary>
    public const string ListAlerts = $"""
        SELECT {AlertColumns}
        FROM alert_instances i JOIN alert_rules r ON r.id = i.rule_id JOIN devices d ON d.id = i.device_id
        WHERE ($1::bigint IS NULL OR i.id < $1)
          AND ($2::text IS NULL OR i.state = $2)
          AND ($3::text IS NULL OR i.severity = $3)
          AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM device_tags t WHERE t.device_id = i.device_id AND t.key = $4 AND t.value = $5))
          AND ($6::bigint IS NULL OR i.device_id = $6)
        ORDER BY i.id DESC
        LIMIT $7
        """;

    public const string SelectAlert = $"SELECT {AlertColumns} FROM alert_instances i JOIN alert_rules r ON r.id = i.rule_id JOIN devices d ON d.id = i.device_id WHERE i.id = $1";

    /// <summary>$1 id, $2 who, $3 when, $4 comment. Acknowledging again replaces who/when/comment.</summary>
    public const string Acknowledge = "UPDATE alert_instances SET acknowledged_by = $2, acknowledged_at = $3, ack_comment = $4 WHERE id = $1";

    public const string InsertAckEvent = "INSERT INTO alert_events (instance_id, kind, detail, at) VALUES ($1, 'acknowledged', $2, $3)";

    // ---- maintenance windows and silences --------------------------------------------------------------

    private const string WindowColumns = """
        id, name, kind, starts_at, ends_at, weekdays, to_char(start_time, 'HH24:MI'), cron, duration_seconds, time_zone, scope_tags, scope_device_ids,
        suppress_deactivation, created_at, updated_at
        """;

    public const string InsertWindow = """
        INSERT INTO maintenance_windows (name, kind, starts_at, ends_at, weekdays, start_time, cron, duration_seconds, time_zone, scope_tags, scope_device_ids,
                                         suppress_deactivation, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6::time, $7, $8, $9, $10, $11, $12, $13, $13)
        RETURNING id
        """;

    public const string UpdateWindow = """
        UPDATE maintenance_windows SET name = $2, kind = $3, starts_at = $4, ends_at = $5, weekdays = $6, start_time = $7::time, cron = $8,
            duration_seconds = $9, time_zone = $10, scope_tags = $11, scope_device_ids = $12, suppress_deactivation = $13, updated_at = $14
        WHERE id = $1
        """;

    public const string SelectWindow = $"SELECT {WindowColumns} FROM maintenance_windows WHERE id = $1";
    public const string ListWindows = $"SELECT {WindowColumns} FROM maintenance_windows ORDER BY id";
    public const string DeleteWindow = "DELETE FROM maintenance_windows WHERE id = $1";

    /// <summary>$1 device id. Windows with suppress_deactivation that cover the device (open or not: the caller decides, NCRONTAB is not SQL's).</summary>
    public const string DeactivationSuppressingWindows = $"""
        SELECT {WindowColumns}
        FROM maintenance_windows r
        WHERE r.suppress_deactivation AND EXISTS (SELECT 1 FROM devices d WHERE d.id = $1 AND {RuleScope})
        ORDER BY r.id
        """;

    private const string SilenceColumns = "id, instance_id, rule_id, device_id, ends_at, created_by, reason, created_at";

    public const string InsertSilence = $"""
        INSERT INTO alert_silences (instance_id, rule_id, device_id, ends_at, created_by, reason, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        RETURNING {SilenceColumns}
        """;

    public const string ListSilences = $"SELECT {SilenceColumns} FROM alert_silences WHERE ends_at > $1 ORDER BY id";
    public const string DeleteSilence = "DELETE FROM alert_silences WHERE id = $1";
    public const string AlertExists = "SELECT id FROM alert_instances WHERE id = $1";
    public const string RuleExists = "SELECT id FROM alert_rules WHERE id = $1";
}
