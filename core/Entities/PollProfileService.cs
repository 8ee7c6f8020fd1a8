using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nms.Core.Api;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Npgsql;

namespace Nms.Core.Entities;

/// <summary>Poll profiles: validated definitions in the plugin contract's shape; one in use by a device or discovery profile is not deleted.</summary>
public sealed class PollProfileService([FromKeyedServices(NmsDataSources.ApiKey)] NpgsqlDataSource dataSource, TimeProvider time, ILogger<PollProfileService> logger)
{
    public const int MaxBodyBytes = PollProfileValidation.MaxBodyBytes;

    public async Task<PollProfile> CreateAsync(PollProfileRequest request, CancellationToken cancellationToken)
    {
        var (name, definition) = PollProfileValidation.Validate(request);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var profile = await EntityDb.QuerySingleAsync(connection, null, EntitySql.InsertPollProfile, Read, cancellationToken, name, Serialize(definition), time.GetUtcNow());
            logger.LogInformation("Created poll profile {PollProfileId} ({ObjectCount} objects)", profile!.Id, ObjectCount(definition));
            return profile;
        }
        catch (PostgresException ex) when (ex.Violates(PostgresErrorCodes.UniqueViolation, Constraints.PollProfileName))
        {
            throw NameTaken(name);
        }
    }

    public async Task<PollProfile> ReplaceAsync(long id, PollProfileRequest request, CancellationToken cancellationToken)
    {
        var (name, definition) = PollProfileValidation.Validate(request);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var profile = await EntityDb.QuerySingleAsync(connection, null, EntitySql.UpdatePollProfile, Read, cancellationToken, id, name, Serialize(definition), time.GetUtcNow())
                ?? throw NotFound(id);
            logger.LogInformation("Updated poll profile {PollProfileId}", id);
            return profile;
        }
        catch (PostgresException ex) when (ex.Violates(PostgresErrorCodes.UniqueViolation, Constraints.PollProfileName))
        {
            throw NameTaken(name);
        }
    }

    public async Task<PollProfile> GetAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await EntityDb.QuerySingleAsync(connection, null, EntitySql.SelectPollProfile, Read, cancellationToken, id) ?? throw NotFound(id);
    }

    public async Task<IReadOnlyList<PollProfile>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await EntityDb.QueryAsync(connection, null, EntitySql.ListPollProfiles, Read, cancellationToken);
    }

    /// <summary>The foreign keys (ON DELETE RESTRICT) decide; the 409 then says who still uses it.</summary>
    public async Task DeleteAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            if (await EntityDb.ExecuteAsync(connection, null, EntitySql.DeletePollProfile, cancellationToken, id) == 0)
            {
                throw NotFound(id);
            }
        }
        catch (PostgresException ex) when (ex.Violates(PostgresErrorCodes.ForeignKeyViolation, Constraints.DevicePollProfile)
                                          || ex.Violates(PostgresErrorCodes.ForeignKeyViolation, Constraints.DiscoveryPollProfile))
        {
            var devices = await EntityDb.QueryAsync(connection, null, EntitySql.DevicesUsingPollProfile, r => r.GetInt64(0), cancellationToken, id);
            var profiles = await EntityDb.QueryAsync(connection, null, EntitySql.DiscoveryProfilesUsingPollProfile, r => r.GetInt64(0), cancellationToken, id);
            throw ProblemException.Conflict(
                $"Poll profile {id} is still used by {devices.Count} device(s) and {profiles.Count} discovery profile(s).",
                new Dictionary<string, object?> { ["device_ids"] = devices, ["discovery_profile_ids"] = profiles });
        }

        logger.LogInformation("Deleted poll profile {PollProfileId}", id);
    }

    /// <summary>A referenced id that does not exist is a 400 naming <paramref name="field"/>; null (the default profile) passes.</summary>
    internal static async Task CheckExistsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long? id, string field, CancellationToken cancellationToken)
    {
        if (id is null)
        {
            return;
        }

        if (id <= 0 || (await EntityDb.QueryAsync(connection, transaction, EntitySql.ExistingPollProfile, r => r.GetInt64(0), cancellationToken, id.Value)).Count == 0)
        {
            throw ProblemException.BadRequest(field, $"No poll profile with id {id}.");
        }
    }

    private static string Serialize(PollProfileDefinition definition) => JsonSerializer.Serialize(definition, NmsJson.Api);

    private static int ObjectCount(PollProfileDefinition definition) =>
        definition.Scalars.Count + definition.Tables.Sum(t => t.Columns.Count + (t.Lookups?.Count ?? 0));

    internal static PollProfile Read(NpgsqlDataReader reader)
    {
        var definition = JsonSerializer.Deserialize<PollProfileDefinition>(reader.GetString(2), NmsJson.Api)!;
        return new PollProfile(reader.GetInt64(0), reader.GetString(1), definition.Scalars, definition.Tables, definition.MaxRequests,
            reader.Timestamp(3), reader.Timestamp(4));
    }

    private static ProblemException NameTaken(string name) =>
        ProblemException.Conflict($"A poll profile named '{name}' already exists.", new Dictionary<string, object?> { ["field"] = "name" });

    private static ProblemException NotFound(long id) => ProblemException.NotFound($"No poll profile with id {id}.");
}
