namespace Nms.Core.Polling;

/// <summary>The polling pipeline's SQL. The clock is always a parameter: never now() where time matters.</summary>
public static class PollingSql
{
    /// <summary>
    /// Pops up to $2 due, active devices (due at or before $1) and moves each one's deadline forward
    /// by whole intervals: next = due + k*interval with the smallest k putting it after $1. The rows
    /// are locked with SKIP LOCKED and re-checked after the lock, so two schedulers never pop one device twice.
    /// </summary>
    public const string PopDue = """
        WITH due AS (
            SELECT s.device_id, s.next_due_at, d.poll_interval_seconds
            FROM poll_schedule s
            JOIN devices d ON d.id = s.device_id
            WHERE s.next_due_at <= $1 AND d.status = 'active'
            ORDER BY s.next_due_at
            LIMIT $2
            FOR UPDATE OF s SKIP LOCKED
        )
        UPDATE poll_schedule s
        SET next_due_at = due.next_due_at + make_interval(secs => due.poll_interval_seconds
                * (floor(extract(epoch FROM ($1 - due.next_due_at)) / due.poll_interval_seconds) + 1))
        FROM due
        JOIN devices d ON d.id = due.device_id
        WHERE s.device_id = due.device_id
        RETURNING s.device_id, due.next_due_at, host(d.ip), d.port, d.plugin
        """;

    /// <summary>
    /// Gives popped devices their deadline back when their poll batch could not be enqueued, so the
    /// next tick pops them again instead of skipping a whole interval. $1 device ids, $2 their due times.
    /// </summary>
    public const string Unpop = """
        UPDATE poll_schedule s
        SET next_due_at = u.due
        FROM unnest($1::bigint[], $2::timestamptz[]) AS u(device_id, due)
        WHERE s.device_id = u.device_id AND s.next_due_at > u.due
        """;

    /// <summary>What is still due after a tick: how many, and the oldest deadline.</summary>
    public const string Backlog = """
        SELECT count(*), min(s.next_due_at)
        FROM poll_schedule s
        JOIN devices d ON d.id = s.device_id
        WHERE s.next_due_at <= $1 AND d.status = 'active'
        """;

    /// <summary>
    /// The poller's re-read of a batch's devices: a device deleted or deactivated since the pop is absent
    /// or inactive here and is skipped. Credential ids and host keys are read here, never carried on a queue.
    /// </summary>
    public const string LoadDevices = """
        SELECT id, host(ip), port, plugin, status, credential_profile_id, host_key
        FROM devices
        WHERE id = ANY($1)
        """;

    /// <summary>A successful poll clears the device's failure count (the health policy).</summary>
    public const string ClearFailureCounts = """
        UPDATE devices SET failure_count = 0
        WHERE id = ANY($1) AND failure_count > 0
        """;
}
