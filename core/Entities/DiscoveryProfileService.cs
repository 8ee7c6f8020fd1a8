using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nms.Core.Api;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Discovery;
using Nms.Core.Plugins;
using Npgsql;
using static Nms.Core.Entities.EntityValidation;

namespace Nms.Core.Entities;

/// <summary>Discovery profiles: a validated target, a plugin that is installed, and ordered credential profiles.</summary>
public sealed class DiscoveryProfileService(
    [FromKeyedServices(NmsDataSources.ApiKey)] NpgsqlDataSource dataSource,
    IPluginRunner plugins,
    DiscoveryOptions options,
    TimeProvider time,
    ILogger<DiscoveryProfileService> logger)
{
    public const int MaxCredentials = 16;

    public async Task<DiscoveryProfile> CreateAsync(DiscoveryProfileRequest request, CancellationToken cancellationToken)
    {
        var valid = Validate(request);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            await CheckCredentialsExistAsync(connection, transaction, valid.CredentialIds, cancellationToken);
            var ids = await EntityDb.QueryAsync(connection, transaction, EntitySql.InsertDiscovery, r => r.GetInt64(0), cancellationToken,
                valid.Name, valid.Target, valid.Port, valid.Plugin, valid.PingPrecheck, valid.TimeoutMs, valid.PollIntervalSeconds, time.GetUtcNow());
            var id = ids[0];
            await EntityDb.ExecuteAsync(connection, transaction, EntitySql.InsertDiscoveryCredentials, cancellationToken, id, valid.CredentialIds.ToArray());
            var profile = await EntityDb.QuerySingleAsync(connection, transaction, EntitySql.SelectDiscovery, Read, cancellationToken, id);
            await transaction.CommitAsync(cancellationToken);
            logger.LogInformation("Created discovery profile {DiscoveryProfileId} ({AddressCount} addresses, plugin {Plugin})", id, profile!.AddressCount, valid.Plugin);
            return profile;
        }
        catch (PostgresException ex) when (Map(ex, valid.Name) is { } problem)
        {
            throw problem;
        }
    }

    public async Task<DiscoveryProfile> ReplaceAsync(long id, DiscoveryProfileRequest request, CancellationToken cancellationToken)
    {
        var valid = Validate(request);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            await CheckCredentialsExistAsync(connection, transaction, valid.CredentialIds, cancellationToken);
            var updated = await EntityDb.ExecuteAsync(connection, transaction, EntitySql.UpdateDiscovery, cancellationToken,
                id, valid.Name, valid.Target, valid.Port, valid.Plugin, valid.PingPrecheck, valid.TimeoutMs, valid.PollIntervalSeconds, time.GetUtcNow());
            if (updated == 0)
            {
                throw NotFound(id);
            }

            await EntityDb.ExecuteAsync(connection, transaction, EntitySql.DeleteDiscoveryCredentials, cancellationToken, id);
            await EntityDb.ExecuteAsync(connection, transaction, EntitySql.InsertDiscoveryCredentials, cancellationToken, id, valid.CredentialIds.ToArray());
            var profile = await EntityDb.QuerySingleAsync(connection, transaction, EntitySql.SelectDiscovery, Read, cancellationToken, id);
            await transaction.CommitAsync(cancellationToken);
            logger.LogInformation("Updated discovery profile {DiscoveryProfileId}", id);
            return profile!;
        }
        catch (PostgresException ex) when (Map(ex, valid.Name) is { } problem)
        {
            throw problem;
        }
    }

    public async Task<DiscoveryProfile> GetAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await EntityDb.QuerySingleAsync(connection, null, EntitySql.SelectDiscovery, Read, cancellationToken, id) ?? throw NotFound(id);
    }

    public async Task<IReadOnlyList<DiscoveryProfile>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await EntityDb.QueryAsync(connection, null, EntitySql.ListDiscovery, Read, cancellationToken);
    }

    /// <summary>Its runs go with it (cascade); devices it found stay, with their discovery_profile_id cleared.</summary>
    public async Task DeleteAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (await EntityDb.ExecuteAsync(connection, null, EntitySql.DeleteDiscovery, cancellationToken, id) == 0)
        {
            throw NotFound(id);
        }

        logger.LogInformation("Deleted discovery profile {DiscoveryProfileId}", id);
    }

    private sealed record ValidProfile(string Name, string Target, int Port, string Plugin, IReadOnlyList<long> CredentialIds, bool PingPrecheck, int TimeoutMs, int PollIntervalSeconds);

    private ValidProfile Validate(DiscoveryProfileRequest request)
    {
        var name = RequiredText(request.Name, "name");
        var target = RequiredText(request.Target, "target", 4096).Trim();
        DiscoveryTarget.Parse(target, options.MaxAddressesPerRun);
        var port = Port(request.Port);
        var plugin = Plugin(request.Plugin, plugins.InstalledPlugins());
        var credentialIds = request.CredentialProfileIds ?? throw ProblemException.BadRequest("credential_profile_ids", "'credential_profile_ids' is required: the credential profiles to try, in order.");
        if (credentialIds.Count == 0)
        {
            throw ProblemException.BadRequest("credential_profile_ids", "'credential_profile_ids' needs at least one credential profile id.");
        }

        if (credentialIds.Count > MaxCredentials)
        {
            throw ProblemException.BadRequest("credential_profile_ids", $"At most {MaxCredentials} credential profiles per discovery profile.");
        }

        for (var i = 0; i < credentialIds.Count; i++)
        {
            if (credentialIds[i] <= 0 || credentialIds.Take(i).Contains(credentialIds[i]))
            {
                throw ProblemException.BadRequest($"credential_profile_ids[{i}]", credentialIds[i] <= 0
                    ? $"'{credentialIds[i]}' is not a credential profile id."
                    : $"Credential profile {credentialIds[i]} is listed twice.");
            }
        }

        var timeout = request.TimeoutMs ?? options.DefaultTimeoutMilliseconds;
        if (timeout is < 100 or > 60_000)
        {
            throw ProblemException.BadRequest("timeout_ms", "'timeout_ms' must be 100-60000.");
        }

        return new ValidProfile(name, target, port, plugin, credentialIds, request.PingPrecheck ?? false, timeout, PollInterval(request.PollIntervalSeconds));
    }

    private static async Task CheckCredentialsExistAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<long> ids, CancellationToken cancellationToken)
    {
        var existing = await EntityDb.QueryAsync(connection, transaction, EntitySql.ExistingCredentials, r => r.GetInt64(0), cancellationToken, ids.ToArray());
        for (var i = 0; i < ids.Count; i++)
        {
            if (!existing.Contains(ids[i]))
            {
                throw UnknownCredential(i, ids[i]);
            }
        }
    }

    internal static DiscoveryProfile Read(NpgsqlDataReader reader)
    {
        var target = reader.GetString(2);
        return new DiscoveryProfile(reader.GetInt64(0), reader.GetString(1), target, AddressCount(target),
            reader.GetInt32(3), reader.GetString(4), reader.GetFieldValue<long[]>(10), reader.GetBoolean(5), reader.GetInt32(6), reader.GetInt32(7),
            reader.Timestamp(8), reader.Timestamp(9));
    }

    /// <summary>A read never fails on stored data: a target written under looser rules shows no count (and a PUT fixes it).</summary>
    private static long? AddressCount(string target)
    {
        try
        {
            return DiscoveryTarget.Parse(target, long.MaxValue).Count;
        }
        catch (ProblemException)
        {
            return null;
        }
    }

    private static ProblemException? Map(PostgresException ex, string name)
    {
        if (ex.Violates(PostgresErrorCodes.UniqueViolation, Constraints.DiscoveryName))
        {
            return ProblemException.Conflict($"A discovery profile named '{name}' already exists.", new Dictionary<string, object?> { ["field"] = "name" });
        }

        // A credential profile deleted between our check and our insert.
        return ex.Violates(PostgresErrorCodes.ForeignKeyViolation, Constraints.DiscoveryCredential)
            ? ProblemException.BadRequest("credential_profile_ids", "A credential profile in 'credential_profile_ids' no longer exists.")
            : null;
    }

    private static ProblemException UnknownCredential(int index, long id) =>
        ProblemException.BadRequest($"credential_profile_ids[{index}]", $"No credential profile with id {id}.");

    private static ProblemException NotFound(long id) => ProblemException.NotFound($"No discovery profile with id {id}.");
}
