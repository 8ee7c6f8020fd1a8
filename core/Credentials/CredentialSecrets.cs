using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Nms.Core.Data;
using Nms.Core.Plugins;
using Nms.Plugins.Sdk;
using Npgsql;

namespace Nms.Core.Credentials;

/// <summary>
/// How a credential profile is stored: non-secret <see cref="CredentialSettings"/> as jsonb,
/// and <see cref="CredentialSecretFields"/> sealed by <see cref="SecretSealer"/>.
/// </summary>
public sealed record CredentialSettings(string? User = null, string? AuthProtocol = null, string? PrivProtocol = null);

public sealed record CredentialSecretFields(
    string? Community = null,
    string? AuthKey = null,
    string? PrivKey = null,
    string? Password = null,
    string? PrivateKey = null,
    string? PrivateKeyPassphrase = null)
{
    public override string ToString() => "CredentialSecretFields { *** }";
}

/// <summary>Reads credential profiles and opens their secrets, in memory only, for a plugin's stdin.</summary>
public sealed class CredentialReader([FromKeyedServices(NmsDataSources.ApiKey)] NpgsqlDataSource dataSource, SecretSealer sealer) : IPluginCredentials
{
    /// <summary>How settings and sealed secret fields are stored: snake_case, nulls left out (the plugin contract's own style).</summary>
    public static JsonSerializerOptions StorageJson { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private const string SelectSql = """
        SELECT id, protocol, settings::text, secret_key_id, secret_ciphertext
        FROM credential_profiles
        WHERE id = ANY($1)
        """;

    public async Task<IReadOnlyDictionary<long, PluginCredential>> ReadAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        var credentials = new Dictionary<long, PluginCredential>();
        if (ids.Count == 0)
        {
            return credentials;
        }

        await using var command = dataSource.CreateCommand(SelectSql);
        command.Parameters.Add(new NpgsqlParameter { Value = ids.Distinct().ToArray() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetInt64(0);
            var settings = JsonSerializer.Deserialize<CredentialSettings>(reader.GetString(2), StorageJson) ?? new CredentialSettings();
            var secret = Open(reader.GetString(3), (byte[])reader[4]);
            credentials[id] = new PluginCredential(id, reader.GetString(1), secret.Community, settings.User, settings.AuthProtocol,
                secret.AuthKey, settings.PrivProtocol, secret.PrivKey, secret.Password, secret.PrivateKey, secret.PrivateKeyPassphrase);
        }

        return credentials;
    }

    public SealedSecret Seal(CredentialSecretFields fields) =>
        sealer.Seal(JsonSerializer.SerializeToUtf8Bytes(fields, StorageJson));

    private CredentialSecretFields Open(string keyId, byte[] ciphertext) =>
        JsonSerializer.Deserialize<CredentialSecretFields>(sealer.Open(new SealedSecret(keyId, ciphertext)), StorageJson) ?? new CredentialSecretFields();
}
