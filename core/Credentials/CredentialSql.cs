namespace Nms.Core.Credentials;

/// <summary>Every statement of the credential profiles' lifecycle, positional parameters only.</summary>
internal static class CredentialSql
{
    private const string CredentialColumns = "id, name, protocol, settings::text, secret_key_id, created_at, updated_at";

    public const string InsertCredential = $"""
        INSERT INTO credential_profiles (name, protocol, settings, secret_ciphertext, secret_key_id, created_at, updated_at)
        VALUES ($1, $2, $3::jsonb, $4, $5, $6, $6)
        RETURNING {CredentialColumns}
        """;

    public const string UpdateCredential = $"""
        UPDATE credential_profiles
        SET name = $2, protocol = $3, settings = $4::jsonb, secret_ciphertext = $5, secret_key_id = $6, updated_at = $7
        WHERE id = $1
        RETURNING {CredentialColumns}
        """;

    public const string SelectCredential = $"SELECT {CredentialColumns} FROM credential_profiles WHERE id = $1";

    public const string ListCredentials = $"SELECT {CredentialColumns} FROM credential_profiles ORDER BY id";

    public const string LockCredential = "SELECT id FROM credential_profiles WHERE id = $1 FOR UPDATE";

    public const string DevicesUsingCredential = "SELECT id FROM devices WHERE credential_profile_id = $1 ORDER BY id LIMIT 100";

    public const string DiscoveryProfilesUsingCredential = """
        SELECT DISTINCT discovery_profile_id FROM discovery_profile_credentials
        WHERE credential_profile_id = $1 ORDER BY discovery_profile_id LIMIT 100
        """;

    public const string DeleteCredential = "DELETE FROM credential_profiles WHERE id = $1";

    /// <summary>Rows under another key that this instance can still open ($3): one under a removed key cannot block the rest.</summary>
    public const string SealedCredentials = """
        SELECT id, secret_key_id, secret_ciphertext FROM credential_profiles
        WHERE secret_key_id <> $1 AND secret_key_id = ANY($3)
        ORDER BY id LIMIT $2
        """;

    public const string ResealCredential = "UPDATE credential_profiles SET secret_ciphertext = $3, secret_key_id = $4 WHERE id = $1 AND secret_key_id = $2";
}
