namespace Nms.Core.Health;

/// <summary>
/// The health feature's own statements; its changes to a device (counts, deactivation, reactivation,
/// probe bookkeeping) are <see cref="Devices.DeviceLifecycle"/>'s. Times are always parameters (the caller's
/// <see cref="TimeProvider"/>), never <c>now()</c>, so tests control the clock.
/// </summary>
public static class HealthSql
{
    // ---- Failure consumer: one transaction per event ----

    /// <summary>$1 device id, $2 default window seconds, $3 default threshold. Locks the row: consumers serialise per device.</summary>
    public const string LockDevice = """
        SELECT status,
               failure_count,
               last_failure_at,
               COALESCE(failure_window_seconds, $2),
               COALESCE(failure_threshold, $3),
               host(ip) || ':' || port,
               reactivated_at,
               last_failure_reason,
               last_failure_error
        FROM devices
        WHERE id = $1
        FOR UPDATE
        """;

    /// <summary>$1 event id, $2 device id, $3 reason, $4 error, $5 occurred at, $6 processed at. No row back = already processed.</summary>
    public const string RecordEvent = """
        INSERT INTO failure_events (event_id, device_id, reason, error, occurred_at, processed_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (event_id) DO NOTHING
        RETURNING event_id
        """;

    /// <summary>$1 device id, $2 kind, $3 reason, $4 error, $5 at.</summary>
    public const string LogTransition = """
        INSERT INTO device_health_events (device_id, kind, reason, error, at)
        VALUES ($1, $2, $3, $4, $5)
        """;

    /// <summary>$1 cutoff. Redeliveries older than the queue's message lifetime cannot arrive any more.</summary>
    public const string PruneFailureEvents = """
        DELETE FROM failure_events
        WHERE event_id IN (SELECT event_id FROM failure_events WHERE processed_at < $1 LIMIT 10000)
        """;

    // ---- Recovery probe ----

    /// <summary>
    /// $1 now, $2 batch size. Devices the health consumer deactivated whose next probe is due.
    /// SKIP LOCKED: instances running the timer together take disjoint devices.
    /// </summary>
    public const string ClaimDueProbes = """
        SELECT id, host(ip), port, plugin, credential_profile_id, host_key, recovery_attempts, deactivated_at
        FROM devices
        WHERE status = 'inactive'
          AND deactivation_reason IN ('ping', 'poll')
          AND recovery_next_probe_at <= $1
        ORDER BY recovery_next_probe_at
        LIMIT $2
        FOR UPDATE SKIP LOCKED
        """;

    // ---- Summary (GET /api/device_health) ----

    public const string Counts = """
        SELECT count(*) FILTER (WHERE status = 'active'),
               count(*) FILTER (WHERE status = 'inactive'),
               count(*) FILTER (WHERE status = 'active' AND failure_count > 0)
        FROM devices
        """;

    /// <summary>$1 kind, $2 limit. Newest first, with the device's current state.</summary>
    public const string LatestTransitions = """
        SELECT e.device_id, host(d.ip), d.port, d.hostname, d.status, e.reason, e.error, e.at,
               d.recovery_attempts, d.recovery_next_probe_at
        FROM device_health_events AS e
        JOIN devices AS d ON d.id = e.device_id
        WHERE e.kind = $1
        ORDER BY e.at DESC, e.id DESC
        LIMIT $2
        """;

    /// <summary>
    /// $1 since, $2 device id or null, $3 limit. The health log's deactivations and reactivations,
    /// plus manual deactivations (which the log does not record) of devices still inactive.
    /// </summary>
    public const string TransitionsSince = """
        SELECT t.device_id, host(d.ip), d.port, d.hostname, d.status, t.kind, t.reason, t.error, t.at
        FROM (
            SELECT device_id, kind, reason, error, at
            FROM device_health_events
            WHERE at >= $1 AND ($2::bigint IS NULL OR device_id = $2)
            UNION ALL
            SELECT m.id, 'deactivated', m.deactivation_reason, m.deactivation_error, m.deactivated_at
            FROM devices AS m
            WHERE m.status = 'inactive' AND m.deactivation_reason = 'manual' AND m.deactivated_at >= $1
              AND ($2::bigint IS NULL OR m.id = $2)
              AND NOT EXISTS (SELECT 1 FROM device_health_events AS e
                              WHERE e.device_id = m.id AND e.kind = 'deactivated' AND e.at = m.deactivated_at)
        ) AS t
        JOIN devices AS d ON d.id = t.device_id
        ORDER BY t.at DESC, t.device_id
        LIMIT $3
        """;
}
