using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nms.Core.Api;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Npgsql;
using static Nms.Core.Entities.EntityValidation;

namespace Nms.Core.Entities;

/// <summary>
/// API keys look like <c>nms_&lt;prefix&gt;_&lt;secret&gt;</c>: the prefix (public, stored in clear)
/// finds the row, the SHA-256 of the whole key is compared in constant time. SHA-256 without
/// stretching is right here because the secret is 256 random bits, not a password.
/// Only <see cref="CreateAsync"/> ever sees a key in clear; logs carry the key id.
/// </summary>
public sealed class ApiKeyService(
    [FromKeyedServices(NmsDataSources.ApiKey)] NpgsqlDataSource dataSource,
    AuthOptions auth,
    TimeProvider time,
    ILogger<ApiKeyService> logger) : IApiKeyAuthenticator
{
    private const string KeyScheme = "nms";
    private const int PrefixBytes = 6;
    private const int SecretBytes = 32;
    private const int MaxPresentedKeyLength = 256;

    /// <summary>last_used_at is written at most this often per key.</summary>
    public static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    private static readonly IReadOnlyList<string> Roles = ["reader", "operator", "admin"];

    public async Task<CreatedApiKey> CreateAsync(ApiKeyRequest request, CancellationToken cancellationToken)
    {
        var name = RequiredText(request.Name, "name");
        var role = OneOf(request.Role, Roles, "role");
        var prefix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(PrefixBytes));
        var key = $"{KeyScheme}_{prefix}_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(SecretBytes))}";
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var created = await EntityDb.QuerySingleAsync(connection, null, EntitySql.InsertApiKey, Read, cancellationToken,
            Guid.CreateVersion7(time.GetUtcNow()), name, role, prefix, Hash(key), time.GetUtcNow());
        logger.LogInformation("Created API key {ApiKeyId} ({Role})", created!.Id, role);
        return new CreatedApiKey(created.Id, created.Name, created.Role, created.KeyPrefix, key, created.CreatedAt);
    }

    public async Task<IReadOnlyList<ApiKey>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await EntityDb.QueryAsync(connection, null, EntitySql.ListApiKeys, Read, cancellationToken);
    }

    public async Task<ApiKey> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await EntityDb.QuerySingleAsync(connection, null, EntitySql.SelectApiKey, Read, cancellationToken, id) ?? throw NotFound(id);
    }

    /// <summary>Idempotent: revoking a revoked key keeps its first revocation time.</summary>
    public async Task<ApiKey> RevokeAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var revoked = await EntityDb.QuerySingleAsync(connection, null, EntitySql.RevokeApiKey, Read, cancellationToken, id, time.GetUtcNow()) ?? throw NotFound(id);
        logger.LogInformation("Revoked API key {ApiKeyId}", id);
        return revoked;
    }

    public async Task<ApiPrincipal?> AuthenticateAsync(string presentedKey, CancellationToken cancellationToken)
    {
        if (presentedKey.Length is 0 or > MaxPresentedKeyLength)
        {
            return null;
        }

        if (BootstrapKeyAuthenticator.Matches(auth.BootstrapAdminKey, presentedKey))
        {
            return new ApiPrincipal(BootstrapKeyAuthenticator.BootstrapKeyId, "bootstrap admin", Role.Admin);
        }

        var parts = presentedKey.Split('_');
        if (parts.Length != 3 || parts[0] != KeyScheme || parts[1].Length != PrefixBytes * 2)
        {
            return null;
        }

        var hash = Hash(presentedKey);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await EntityDb.QueryAsync(connection, null, EntitySql.ApiKeyByPrefix,
            r => (Id: r.GetGuid(0), Name: r.GetString(1), Role: r.GetString(2), Hash: (byte[])r[3], Revoked: !r.IsDBNull(4), LastUsed: r.NullableTimestamp(5)),
            cancellationToken, parts[1]);
        if (rows.Count == 0 || !CryptographicOperations.FixedTimeEquals(rows[0].Hash, hash) || rows[0].Revoked)
        {
            if (rows.Count > 0)
            {
                logger.LogInformation("API key {ApiKeyId} refused: {Why}", rows[0].Id, rows[0].Revoked ? "revoked" : "wrong secret");
            }

            return null;
        }

        var row = rows[0];
        var now = time.GetUtcNow();
        if (row.LastUsed is null || now - row.LastUsed.Value >= LastUsedResolution)
        {
            await EntityDb.ExecuteAsync(connection, null, EntitySql.TouchApiKey, cancellationToken, row.Id, now, LastUsedResolution.TotalSeconds);
        }

        return new ApiPrincipal(row.Id.ToString(), row.Name, Enum.Parse<Role>(row.Role, ignoreCase: true));
    }

    internal static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    private static ApiKey Read(NpgsqlDataReader r) =>
        new(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetString(3), r.Timestamp(4), r.NullableTimestamp(5), r.NullableTimestamp(6));

    private static ProblemException NotFound(Guid id) => ProblemException.NotFound($"No API key with id {id}.");
}
