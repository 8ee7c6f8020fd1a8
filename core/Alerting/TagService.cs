using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nms.Core.Api;
using Nms.Core.Entities;
using Nms.Core.Data;
using Npgsql;

namespace Nms.Core.Alerting;

/// <summary>
/// Device tags (<c>device_tags</c>, owned here) and the tags a discovery profile gives the devices it
/// provisions. A PUT replaces the whole set in one transaction.
/// </summary>
public sealed class TagService([FromKeyedServices(NmsDataSources.ApiKey)] NpgsqlDataSource dataSource, ILogger<TagService> logger)
{
    public async Task<TagList> GetDeviceTagsAsync(long deviceId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await RequireAsync(connection, null, AlertingSql.DeviceExists, deviceId, "device", cancellationToken);
        return await ReadAsync(connection, null, AlertingSql.DeviceTags, deviceId, cancellationToken);
    }

    public Task<TagList> SetDeviceTagsAsync(long deviceId, TagsRequest request, CancellationToken cancellationToken) =>
        ReplaceAsync(deviceId, request, AlertingSql.LockDevice, AlertingSql.DeleteDeviceTags, AlertingSql.InsertDeviceTags, AlertingSql.DeviceTags, "device", cancellationToken);

    public async Task<TagList> GetDiscoveryTagsAsync(long profileId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await RequireAsync(connection, null, AlertingSql.DiscoveryProfileExists, profileId, "discovery profile", cancellationToken);
        return await ReadAsync(connection, null, AlertingSql.DiscoveryTags, profileId, cancellationToken);
    }

    public Task<TagList> SetDiscoveryTagsAsync(long profileId, TagsRequest request, CancellationToken cancellationToken) =>
        ReplaceAsync(profileId, request, AlertingSql.LockDiscoveryProfile, AlertingSql.DeleteDiscoveryTags, AlertingSql.InsertDiscoveryTags, AlertingSql.DiscoveryTags, "discovery profile", cancellationToken);

    private async Task<TagList> ReplaceAsync(long id, TagsRequest request, string lockSql, string deleteSql, string insertSql, string readSql, string what, CancellationToken cancellationToken)
    {
        if (request.Tags is null)
        {
            throw ProblemException.BadRequest("tags", "'tags' is required (a list of key=value; empty clears them).");
        }

        var tags = Tag.ParseAll(request.Tags, "tags");
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await RequireAsync(connection, transaction, lockSql, id, what, cancellationToken);
        await EntityDb.ExecuteAsync(connection, transaction, deleteSql, cancellationToken, id);
        await EntityDb.ExecuteAsync(connection, transaction, insertSql, cancellationToken, id, tags.Select(t => t.Key).ToArray(), tags.Select(t => t.Value).ToArray());
        var result = await ReadAsync(connection, transaction, readSql, id, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Set {Count} tags on {What} {Id}", tags.Count, what, id);
        return result;
    }

    private static async Task<TagList> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, long id, CancellationToken cancellationToken) =>
        new(await EntityDb.QueryAsync(connection, transaction, sql, r => r.GetString(0), cancellationToken, id));

    private static async Task RequireAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, long id, string what, CancellationToken cancellationToken)
    {
        if ((await EntityDb.QueryAsync(connection, transaction, sql, r => r.GetInt64(0), cancellationToken, id)).Count == 0)
        {
            throw ProblemException.NotFound($"No {what} with id {id}.");
        }
    }
}
