using Nms.Core.Entities;
using Npgsql;

namespace Nms.Core.Alerting;

/// <summary>Tags the devices a discovery run just provisioned with its profile's tags, in the run's transaction.</summary>
public static class DeviceTagging
{
    /// <summary>$1 discovery profile id, $2 ids of the devices the lifecycle created (known devices are not among them).</summary>
    private const string TagDiscovered = """
        INSERT INTO device_tags (device_id, key, value)
        SELECT d.id, t.key, t.value
        FROM unnest($2::bigint[]) AS d(id)
        JOIN discovery_profile_tags t ON t.discovery_profile_id = $1
        ON CONFLICT DO NOTHING
        """;

    public static async Task TagDiscoveredAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long profileId, long[] createdDeviceIds, CancellationToken cancellationToken)
    {
        if (createdDeviceIds.Length > 0)
        {
            await EntityDb.ExecuteAsync(connection, transaction, TagDiscovered, cancellationToken, profileId, createdDeviceIds);
        }
    }
}
