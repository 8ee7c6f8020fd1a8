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
    /// or inactive here and is skipped. Credential ids and host keys are read here, never carried on a queue;
    /// so is the poll profile, in the plugin contract's shape (null: the plugin's default set), one join for the batch.
    /// </summary>
    public const string LoadDevices = """
        SELECT d.id, host(d.ip), d.port, d.plugin, d.status, d.credential_profile_id, d.host_key,
               (jsonb_build_object('name', p.name) || p.definition)::text
        FROM devices d
        LEFT JOIN poll_profiles p ON p.id = d.poll_profile_id
        WHERE d.id = ANY($1)
        """;
}
