namespace Nms.Core.Polling;

/// <summary>The polling pipeline's reads (the pop and every write are DeviceLifecycle's). The clock is always a parameter: never now() where time matters.</summary>
public static class PollingSql
{
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
}
