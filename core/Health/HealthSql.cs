namespace Nms.Core.Health;

/// <summary>
/// Every statement of the health feature. Times are always parameters (the caller's
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

    /// <summary>
    /// $1 device id, $2 count, $3 last failure at, $4 reason, $5 error, $6 now, $7 whether the event is
    /// the newest failure (then it becomes the "last failure" reason and error).
    /// </summary>
    public const string UpdateCounters = """
        UPDATE devices
        SET failure_count       = $2,
            last_failure_at     = $3,
            last_failure_reason = CASE WHEN $7 THEN $4 ELSE last_failure_reason END,
            last_failure_error  = CASE WHEN $7 THEN $5 ELSE last_failure_error END,
            updated_at          = $6
        WHERE id = $1
        """;

    /// <summary>$1 device id, $2 reason, $3 error, $4 now (deactivated at), $5 first recovery probe at (null when the probe is off).</summary>
    public const string Deactivate = """
        UPDATE devices
        SET status                 = 'inactive',
            deactivation_reason    = $2,
            deactivation_error     = $3,
            deactivated_at         = $4,
            recovery_attempts      = 0,
            recovery_next_probe_at = $5,
            recovery_last_probe_at = NULL,
            recovery_last_error    = NULL,
            updated_at             = $4
        WHERE id = $1 AND status = 'active'
        """;

    /// <summary>$1 device id. The scheduler can never pop the device again.</summary>
    public const string Unschedule = "DELETE FROM poll_schedule WHERE device_id = $1";

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

    /// <summary>$1 ids, $2 attempts, $3 next probe times, $4 now. Pushes claimed devices to their next backoff step before probing.</summary>
    public const string ScheduleNextProbes = """
        UPDATE devices AS d
        SET recovery_attempts      = u.attempts,
            recovery_next_probe_at = u.next_probe_at,
            recovery_last_probe_at = $4
        FROM unnest($1::bigint[], $2::integer[], $3::timestamptz[]) AS u (id, attempts, next_probe_at)
        WHERE d.id = u.id
        """;

    /// <summary>$1 device id, $2 deactivated at (as claimed), $3 error.</summary>
    public const string RecordProbeFailure = """
        UPDATE devices
        SET recovery_last_error = $3
        WHERE id = $1 AND status = 'inactive' AND deactivated_at = $2
        """;

    /// <summary>
    /// $1 device id, $2 deactivated at (as claimed: an operator's change in between wins), $3 now, $4 reason.
    /// Counters reset exactly as the entities API's reactivation does; the outage stays in device_health_events.
    /// </summary>
    public const string Reactivate = """
        UPDATE devices
        SET status                 = 'active',
            deactivation_reason    = NULL,
            deactivation_error     = NULL,
            deactivated_at         = NULL,
            failure_count          = 0,
            last_failure_at        = NULL,
            last_failure_reason    = NULL,
            last_failure_error     = NULL,
            recovery_attempts      = 0,
            recovery_next_probe_at = NULL,
            recovery_last_error    = NULL,
            reactivated_at         = $3,
            reactivation_reason    = $4,
            updated_at             = $3
        WHERE id = $1 AND status = 'inactive' AND deactivated_at = $2
        """;

    /// <summary>$1 device id, $2 due at. Back in the deadline table: polled on the scheduler's next tick.</summary>
    public const string Reschedule = """
        INSERT INTO poll_schedule (device_id, next_due_at)
        VALUES ($1, $2)
        ON CONFLICT (device_id) DO UPDATE SET next_due_at = LEAST(poll_schedule.next_due_at, EXCLUDED.next_due_at)
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
