namespace Nms.Core.Entities;

/// <summary>Every statement of the entity API, positional parameters only.</summary>
internal static class EntitySql
{
    // ---- credential profiles they reference -------------------------------------------------

    /// <summary>Which of the ids exist; KEY SHARE holds them until the referencing row commits.</summary>
    public const string ExistingCredentials = "SELECT id FROM credential_profiles WHERE id = ANY($1) FOR KEY SHARE";

    // ---- discovery profiles -----------------------------------------------------------------

    private const string DiscoveryColumns = """
        p.id, p.name, p.target, p.port, p.plugin, p.ping_precheck, p.timeout_ms, p.poll_interval_seconds, p.created_at, p.updated_at,
        COALESCE((SELECT array_agg(c.credential_profile_id ORDER BY c.position)
                  FROM discovery_profile_credentials c WHERE c.discovery_profile_id = p.id), '{}')
        """;

    public const string InsertDiscovery = """
        INSERT INTO discovery_profiles (name, target, port, plugin, ping_precheck, timeout_ms, poll_interval_seconds, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
        RETURNING id
        """;

    public const string UpdateDiscovery = """
        UPDATE discovery_profiles
        SET name = $2, target = $3, port = $4, plugin = $5, ping_precheck = $6, timeout_ms = $7, poll_interval_seconds = $8, updated_at = $9
        WHERE id = $1
        """;

    public const string DeleteDiscoveryCredentials = "DELETE FROM discovery_profile_credentials WHERE discovery_profile_id = $1";

    public const string InsertDiscoveryCredentials = """
        INSERT INTO discovery_profile_credentials (discovery_profile_id, position, credential_profile_id)
        SELECT $1, ordinality::integer, id FROM unnest($2::bigint[]) WITH ORDINALITY AS t(id, ordinality)
        """;

    public const string SelectDiscovery = $"SELECT {DiscoveryColumns} FROM discovery_profiles p WHERE p.id = $1";

    public const string ListDiscovery = $"SELECT {DiscoveryColumns} FROM discovery_profiles p ORDER BY p.id";

    public const string DeleteDiscovery = "DELETE FROM discovery_profiles WHERE id = $1";

    // ---- devices ------------------------------------------------------------------------------

    private const string DeviceColumns = """
        d.id, host(d.ip), d.port, d.hostname, d.description, d.plugin, d.credential_profile_id, d.discovery_profile_id,
        d.poll_interval_seconds, d.status, d.deactivation_reason, d.deactivation_error, d.deactivated_at,
        d.failure_count, d.last_failure_at, d.last_failure_reason, d.last_failure_error, d.created_at, d.updated_at, s.next_due_at
        """;

    public const string SelectDevice = $"SELECT {DeviceColumns} FROM devices d LEFT JOIN poll_schedule s ON s.device_id = d.id WHERE d.id = $1";

    /// <summary>Keyset page: ids after the cursor, filters optional ($2 status, $3 plugin, $4/$5 text search).</summary>
    public const string ListDevices = $"""
        SELECT {DeviceColumns}
        FROM devices d LEFT JOIN poll_schedule s ON s.device_id = d.id
        WHERE d.id > $1
          AND ($2::text IS NULL OR d.status = $2::text)
          AND ($3::text IS NULL OR d.plugin = $3::text)
          AND ($4::text IS NULL OR d.hostname ILIKE $4::text ESCAPE '\' OR host(d.ip) LIKE $5::text ESCAPE '\')
        ORDER BY d.id
        LIMIT $6
        """;

    public const string LockDevice = "SELECT status FROM devices WHERE id = $1 FOR UPDATE";

    /// <summary>Status, schedule, interval and failure fields belong to DeviceLifecycle; the credential is the API's.</summary>
    public const string UpdateDeviceCredential = "UPDATE devices SET credential_profile_id = $2, updated_at = $3 WHERE id = $1";

    // ---- api keys -----------------------------------------------------------------------------

    private const string ApiKeyColumns = "id, name, role, key_prefix, created_at, revoked_at, last_used_at";

    public const string InsertApiKey = $"""
        INSERT INTO api_keys (id, name, role, key_prefix, key_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)
        RETURNING {ApiKeyColumns}
        """;

    public const string SelectApiKey = $"SELECT {ApiKeyColumns} FROM api_keys WHERE id = $1";

    public const string ListApiKeys = $"SELECT {ApiKeyColumns} FROM api_keys ORDER BY created_at, id";

    public const string RevokeApiKey = $"""
        UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1
        RETURNING {ApiKeyColumns}
        """;

    public const string ApiKeyByPrefix = "SELECT id, name, role, key_hash, revoked_at, last_used_at FROM api_keys WHERE key_prefix = $1";

    /// <summary>At most one write per key per interval, whatever the request rate.</summary>
    public const string TouchApiKey = """
        UPDATE api_keys SET last_used_at = $2
        WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2 - make_interval(secs => $3))
        """;
}
