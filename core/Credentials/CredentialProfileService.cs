using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nms.Core.Api;
using Nms.Core.Data;
using Nms.Core.Entities;
using Npgsql;
using static Nms.Core.Entities.EntityValidation;

namespace Nms.Core.Credentials;

/// <summary>
/// Credential profiles: the non-secret settings as jsonb, the secret fields sealed with
/// <see cref="SecretSealer"/> under the active key (its id stored beside the ciphertext).
/// Secrets go in, never come out through the API.
/// </summary>
public sealed class CredentialProfileService(
    [FromKeyedServices(NmsDataSources.ApiKey)] NpgsqlDataSource dataSource,
    CredentialReader credentials,
    SecretSealer sealer,
    TimeProvider time,
    ILogger<CredentialProfileService> logger)
{
    public async Task<CredentialProfile> CreateAsync(CredentialProfileRequest request, CancellationToken cancellationToken)
    {
        var (name, protocol, settings, secret) = Validate(request);
        var sealedSecret = credentials.Seal(secret);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var profile = await EntityDb.QuerySingleAsync(connection, null, CredentialSql.InsertCredential, Read, cancellationToken,
                name, protocol, SettingsJson(settings), sealedSecret.Ciphertext, sealedSecret.KeyId, time.GetUtcNow());
            logger.LogInformation("Created credential profile {CredentialProfileId} ({Protocol})", profile!.Id, protocol);
            return profile;
        }
        catch (PostgresException ex) when (ex.Violates(PostgresErrorCodes.UniqueViolation, Constraints.CredentialName))
        {
            throw NameTaken(name);
        }
    }

    /// <summary>Replaces the whole profile; secrets must be sent again (they are never read back).</summary>
    public async Task<CredentialProfile> ReplaceAsync(long id, CredentialProfileRequest request, CancellationToken cancellationToken)
    {
        var (name, protocol, settings, secret) = Validate(request);
        var sealedSecret = credentials.Seal(secret);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var profile = await EntityDb.QuerySingleAsync(connection, null, CredentialSql.UpdateCredential, Read, cancellationToken,
                id, name, protocol, SettingsJson(settings), sealedSecret.Ciphertext, sealedSecret.KeyId, time.GetUtcNow())
                ?? throw NotFound(id);
            logger.LogInformation("Updated credential profile {CredentialProfileId} ({Protocol})", id, protocol);
            return profile;
        }
        catch (PostgresException ex) when (ex.Violates(PostgresErrorCodes.UniqueViolation, Constraints.CredentialName))
        {
            throw NameTaken(name);
        }
    }

    public async Task<CredentialProfile> GetAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await EntityDb.QuerySingleAsync(connection, null, CredentialSql.SelectCredential, Read, cancellationToken, id) ?? throw NotFound(id);
    }

    public async Task<IReadOnlyList<CredentialProfile>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await EntityDb.QueryAsync(connection, null, CredentialSql.ListCredentials, Read, cancellationToken);
    }

    /// <summary>409 naming the devices and discovery profiles that still use it.</summary>
    public async Task DeleteAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var locked = await EntityDb.QueryAsync(connection, transaction, CredentialSql.LockCredential, r => r.GetInt64(0), cancellationToken, id);
        if (locked.Count == 0)
        {
            throw NotFound(id);
        }

        // The row lock makes concurrent inserts that reference this profile wait for us, so the
        // check below cannot miss one that commits in between; the RESTRICT keys are the backstop.
        var devices = await EntityDb.QueryAsync(connection, transaction, CredentialSql.DevicesUsingCredential, r => r.GetInt64(0), cancellationToken, id);
        var profiles = await EntityDb.QueryAsync(connection, transaction, CredentialSql.DiscoveryProfilesUsingCredential, r => r.GetInt64(0), cancellationToken, id);
        if (devices.Count > 0 || profiles.Count > 0)
        {
            throw StillReferenced(id, devices, profiles);
        }

        try
        {
            await EntityDb.ExecuteAsync(connection, transaction, CredentialSql.DeleteCredential, cancellationToken, id);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ForeignKeyViolation
            && (ex.ConstraintName == Constraints.DeviceCredential || ex.ConstraintName == Constraints.DiscoveryCredential))
        {
            throw StillReferenced(id, [], []);
        }

        logger.LogInformation("Deleted credential profile {CredentialProfileId}", id);
    }

    /// <summary>
    /// Re-seals up to <paramref name="batchSize"/> rows still sealed under an older key with the
    /// active key, so a rotated-out key can eventually be removed. Returns how many were re-sealed.
    /// </summary>
    public async Task<int> ResealAsync(int batchSize, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await EntityDb.QueryAsync(connection, null, CredentialSql.SealedCredentials,
            r => (Id: r.GetInt64(0), Sealed: new SealedSecret(r.GetString(1), (byte[])r[2])), cancellationToken, sealer.ActiveKeyId, batchSize, sealer.KeyIds.ToArray());
        var count = 0;
        foreach (var (id, old) in rows)
        {
            var resealed = sealer.Seal(sealer.Open(old));
            count += await EntityDb.ExecuteAsync(connection, null, CredentialSql.ResealCredential, cancellationToken, id, old.KeyId, resealed.Ciphertext, resealed.KeyId);
        }

        if (count > 0)
        {
            logger.LogInformation("Re-sealed {Count} credential profiles under key {KeyId}", count, sealer.ActiveKeyId);
        }

        return count;
    }

    internal static CredentialProfile Read(NpgsqlDataReader reader)
    {
        var settings = JsonSerializer.Deserialize<CredentialSettings>(reader.GetString(3), CredentialReader.StorageJson) ?? new CredentialSettings();
        return new CredentialProfile(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), settings.User, settings.AuthProtocol,
            settings.PrivProtocol, reader.GetString(4), reader.Timestamp(5), reader.Timestamp(6));
    }

    private static string SettingsJson(CredentialSettings settings) => JsonSerializer.Serialize(settings, CredentialReader.StorageJson);

    /// <summary>Which fields each protocol takes; any other secret field is refused rather than silently stored.</summary>
    internal static (string Name, string Protocol, CredentialSettings Settings, CredentialSecretFields Secret) Validate(CredentialProfileRequest request)
    {
        var name = RequiredText(request.Name, "name");
        var protocol = OneOf(request.Protocol, CredentialProtocols.All, "protocol");
        var why = $"for protocol {protocol}";
        switch (protocol)
        {
            case CredentialProtocols.SnmpV1:
            case CredentialProtocols.SnmpV2c:
                Absent(request.User, "user", why);
                Absent(request.AuthProtocol, "auth_protocol", why);
                Absent(request.AuthKey, "auth_key", why);
                Absent(request.PrivProtocol, "priv_protocol", why);
                Absent(request.PrivKey, "priv_key", why);
                NoSsh(request, why);
                return (name, protocol, new CredentialSettings(), new CredentialSecretFields(Community: RequiredText(request.Community, "community", 255)));

            case CredentialProtocols.SnmpV3:
                Absent(request.Community, "community", why);
                NoSsh(request, why);
                var user = RequiredText(request.User, "user", 255);
                var auth = request.AuthProtocol is null ? "none" : OneOf(request.AuthProtocol, CredentialProtocols.AuthProtocols, "auth_protocol");
                var priv = request.PrivProtocol is null ? "none" : OneOf(request.PrivProtocol, CredentialProtocols.PrivProtocols, "priv_protocol");
                var authKey = auth == "none" ? Omitted(request.AuthKey, "auth_key", "when auth_protocol is none") : SnmpKey(request.AuthKey, "auth_key");
                if (priv != "none" && auth == "none")
                {
                    throw ProblemException.BadRequest("priv_protocol", "Privacy needs authentication: set auth_protocol too (SNMPv3 has no noAuthPriv).");
                }

                var privKey = priv == "none" ? Omitted(request.PrivKey, "priv_key", "when priv_protocol is none") : SnmpKey(request.PrivKey, "priv_key");
                return (name, protocol, new CredentialSettings(user, auth, priv), new CredentialSecretFields(AuthKey: authKey, PrivKey: privKey));

            default:
                Absent(request.Community, "community", why);
                Absent(request.AuthProtocol, "auth_protocol", why);
                Absent(request.AuthKey, "auth_key", why);
                Absent(request.PrivProtocol, "priv_protocol", why);
                Absent(request.PrivKey, "priv_key", why);
                var sshUser = RequiredText(request.User, "user", 255);
                var password = Text(request.Password, "password", 1024);
                var privateKey = Text(request.PrivateKey, "private_key", 64 * 1024);
                if (string.IsNullOrEmpty(password) == string.IsNullOrEmpty(privateKey))
                {
                    throw ProblemException.BadRequest(string.IsNullOrEmpty(password) ? "password" : "private_key",
                        "An ssh profile needs exactly one of 'password' or 'private_key'.");
                }

                var passphrase = Text(request.PrivateKeyPassphrase, "private_key_passphrase", 1024);
                if (passphrase is not null && privateKey is null)
                {
                    throw ProblemException.BadRequest("private_key_passphrase", "'private_key_passphrase' is only allowed with 'private_key'.");
                }

                return (name, protocol, new CredentialSettings(sshUser), new CredentialSecretFields(Password: password, PrivateKey: privateKey, PrivateKeyPassphrase: passphrase));
        }
    }

    private static void NoSsh(CredentialProfileRequest request, string why)
    {
        Absent(request.Password, "password", why);
        Absent(request.PrivateKey, "private_key", why);
        Absent(request.PrivateKeyPassphrase, "private_key_passphrase", why);
    }

    private static string? Omitted(string? value, string field, string why)
    {
        Absent(value, field, why);
        return null;
    }

    /// <summary>RFC 3414 passphrases are at least 8 characters (net-snmp refuses shorter ones).</summary>
    private static string SnmpKey(string? value, string field)
    {
        var key = RequiredText(value, field, 255);
        return key.Length >= 8 ? key : throw ProblemException.BadRequest(field, $"'{field}' must be at least 8 characters.");
    }

    private static ProblemException NotFound(long id) => ProblemException.NotFound($"No credential profile with id {id}.");

    private static ProblemException NameTaken(string name) =>
        ProblemException.Conflict($"A credential profile named '{name}' already exists.", new Dictionary<string, object?> { ["field"] = "name" });

    private static ProblemException StillReferenced(long id, IReadOnlyList<long> devices, IReadOnlyList<long> profiles) =>
        ProblemException.Conflict(
            $"Credential profile {id} is still used by {devices.Count} device(s) and {profiles.Count} discovery profile(s).",
            new Dictionary<string, object?> { ["device_ids"] = devices, ["discovery_profile_ids"] = profiles });
}
