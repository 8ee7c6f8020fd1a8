namespace Nms.Core.Devices;

/// <summary>
/// Every statement that writes a device's status, its failure and recovery fields, or its row in
/// <c>poll_schedule</c> (the deadline table). Nothing else in the app writes them. Positional
/// parameters only; times are always parameters (the caller's clock), never <c>now()</c>.
/// </summary>
internal static class DeviceLifecycleSql
{
    // ---- provisioning -------------------------------------------------------------------------

    /// <summary>
    /// $1 ips (inet[]), $2 ports, $3 hostnames, $4 descriptions, $5 plugins, $6 credential ids, $7 discovery
    /// profile ids, $8 poll intervals, $9 host keys, $10 first due times, $11 now, $12 failure windows and
    /// $13 thresholds (null: the health defaults), $14 poll profile ids (null: the discovery profile's, if any). The unique (ip, port)
    /// index decides: a known device is left exactly as it is. Rows go in (ip, port) order so concurrent
    /// provisioning with overlapping addresses waits instead of deadlocking. A new device is active and
    /// in the deadline table in the same statement. Returns the new devices' ids with their (ip, port).
    /// </summary>
    public const string Provision = """
        WITH found AS (
            SELECT DISTINCT ON (ip, port) *
            FROM unnest($1::inet[], $2::integer[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::integer[], $9::text[],
                        $10::timestamptz[], $12::integer[], $13::integer[], $14::bigint[])
                AS f(ip, port, hostname, description, plugin, credential_profile_id, discovery_profile_id, poll_interval_seconds, host_key,
                     first_due_at, failure_window_seconds, failure_threshold, poll_profile_id)
            ORDER BY ip, port
        ), inserted AS (
            INSERT INTO devices (ip, port, hostname, description, plugin, credential_profile_id, discovery_profile_id,
                                 poll_interval_seconds, failure_window_seconds, failure_threshold, status, host_key, created_at, updated_at,
                                 poll_profile_id)
            SELECT ip, port, hostname, description, plugin, credential_profile_id, discovery_profile_id,
                   poll_interval_seconds, failure_window_seconds, failure_threshold, 'active', host_key, $11, $11,
                   COALESCE(found.poll_profile_id, (SELECT p.poll_profile_id FROM discovery_profiles p WHERE p.id = found.discovery_profile_id))
            FROM found
            ORDER BY ip, port
            ON CONFLICT (ip, port) DO NOTHING
            RETURNING id, ip, port
        ), scheduled AS (
            INSERT INTO poll_schedule (device_id, next_due_at)
            SELECT inserted.id, found.first_due_at
            FROM inserted JOIN found USING (ip, port)
        )
        SELECT id, host(ip), port FROM inserted
        """;

    /// <summary>$1 ip, $2 port: the device a provisioning conflicted with.</summary>
    public const string DeviceIdAt = "SELECT id FROM devices WHERE ip = $1 AND port = $2";

    /// <summary>$1 device id. Its poll_schedule row is deleted first (<see cref="Unschedule"/>).</summary>
    public const string Delete = "DELETE FROM devices WHERE id = $1";

    // ---- deactivation -------------------------------------------------------------------------

    /// <summary>$1 device id, $2 reason, $3 now. By hand: the recovery probe never looks at it (reason not ping/poll).</summary>
    public const string DeactivateByOperator = """
        UPDATE devices
        SET status = 'inactive', deactivation_reason = $2, deactivation_error = NULL, deactivated_at = $3, updated_at = $3
        WHERE id = $1 AND status = 'active'
        """;

    /// <summary>$1 device id, $2 reason, $3 error, $4 now (deactivated at), $5 first recovery probe at.</summary>
    public const string DeactivateForFailures = """
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

    // ---- reactivation -------------------------------------------------------------------------

    /// <summary>
    /// What every reactivation resets. <c>reactivated_at</c> ($2) is what the health consumer compares a
    /// failure's time with: a failure from before it belongs to the outage that ended and is ignored.
    /// </summary>
    private const string EndOutage = """
        status              = 'active',
        deactivation_reason = NULL,
        deactivation_error  = NULL,
        deactivated_at      = NULL,
        failure_count       = 0,
        last_failure_at     = NULL,
        last_failure_reason = NULL,
        last_failure_error  = NULL,
        reactivated_at      = $2,
        updated_at          = $2
        """;

    /// <summary>$1 device id, $2 now. No reactivation reason: that column says why the probe brought a device back.</summary>
    public const string ReactivateByOperator = $"""
        UPDATE devices
        SET {EndOutage},
            reactivation_reason = NULL
        WHERE id = $1 AND status = 'inactive'
        """;

    /// <summary>
    /// $1 device id, $2 now, $3 reason, $4 deactivated at (as claimed: an operator's change in between wins).
    /// The outage stays in device_health_events.
    /// </summary>
    public const string ReactivateByProbe = $"""
        UPDATE devices
        SET {EndOutage},
            recovery_attempts      = 0,
            recovery_next_probe_at = NULL,
            recovery_last_error    = NULL,
            reactivation_reason    = $3
        WHERE id = $1 AND status = 'inactive' AND deactivated_at = $4
        """;

    // ---- the deadline table -------------------------------------------------------------------

    /// <summary>$1 device id, $2 due at. An existing deadline that is earlier stays.</summary>
    public const string Schedule = """
        INSERT INTO poll_schedule (device_id, next_due_at)
        VALUES ($1, $2)
        ON CONFLICT (device_id) DO UPDATE SET next_due_at = LEAST(poll_schedule.next_due_at, EXCLUDED.next_due_at)
        """;

    /// <summary>$1 device ids, $2 due times: moves scheduled devices' deadlines, earlier or later.</summary>
    public const string Reschedule = """
        UPDATE poll_schedule s
        SET next_due_at = u.due
        FROM unnest($1::bigint[], $2::timestamptz[]) AS u(device_id, due)
        WHERE s.device_id = u.device_id
        """;

    /// <summary>$1 device ids, $2 the due times they were popped at: the deadlines come back unless moved earlier since.</summary>
    public const string GiveBackDeadlines = Reschedule + " AND s.next_due_at > u.due";

    /// <summary>$1 device id, $2 interval, $3 now.</summary>
    public const string ChangeInterval = "UPDATE devices SET poll_interval_seconds = $2, updated_at = $3 WHERE id = $1";

    /// <summary>$1 device id, $2 due at. A shorter interval pulls the deadline in; a longer one leaves it (the next pop reschedules).</summary>
    public const string PullDeadlineIn = "UPDATE poll_schedule SET next_due_at = LEAST(next_due_at, $2) WHERE device_id = $1";

    /// <summary>
    /// Pops up to $2 due devices (due at or before $1) and moves each one's deadline forward by whole
    /// intervals: next = due + k*interval with the smallest k putting it after $1. The rows are locked with
    /// SKIP LOCKED, so two schedulers never pop one device twice. poll_schedule holds only active devices
    /// (deactivation deletes the row in the same transaction), so the lock scan reads the due index alone and
    /// devices is joined once, for the interval (and the status, as a guard).
    /// </summary>
    public const string PopDue = """
        WITH due AS (
            SELECT device_id, next_due_at
            FROM poll_schedule
            WHERE next_due_at <= $1
            ORDER BY next_due_at
            LIMIT $2
            FOR UPDATE SKIP LOCKED
        )
        UPDATE poll_schedule s
        SET next_due_at = due.next_due_at + make_interval(secs => d.poll_interval_seconds
                * (floor(extract(epoch FROM ($1 - due.next_due_at)) / d.poll_interval_seconds) + 1))
        FROM due
        JOIN devices d ON d.id = due.device_id AND d.status = 'active'
        WHERE s.device_id = due.device_id
        RETURNING s.device_id, due.next_due_at
        """;

    // ---- failure and recovery fields ----------------------------------------------------------

    /// <summary>
    /// $1 device id, $2 count, $3 last failure at, $4 reason, $5 error, $6 now, $7 whether the event is
    /// the newest failure (then it becomes the "last failure" reason and error).
    /// </summary>
    public const string RecordFailureCount = """
        UPDATE devices
        SET failure_count       = $2,
            last_failure_at     = $3,
            last_failure_reason = CASE WHEN $7 THEN $4 ELSE last_failure_reason END,
            last_failure_error  = CASE WHEN $7 THEN $5 ELSE last_failure_error END,
            updated_at          = $6
        WHERE id = $1
        """;

    /// <summary>$1 device ids. A successful poll clears the failure count (the health policy).</summary>
    public const string ClearFailureCounts = """
        UPDATE devices SET failure_count = 0
        WHERE id = ANY($1) AND failure_count > 0
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
}
