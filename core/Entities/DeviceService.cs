using System.Buffers.Text;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nms.Core.Api;
using Nms.Core.Data;
using Nms.Core.Devices;
using Nms.Core.Plugins;
using Npgsql;
using static Nms.Core.Entities.EntityValidation;

namespace Nms.Core.Entities;

/// <summary>
/// The device API: validates requests and reads devices; every change of a device's status or
/// schedule goes through <see cref="DeviceLifecycle"/> in this service's transaction.
/// </summary>
public sealed class DeviceService(
    [FromKeyedServices(NmsDataSources.ApiKey)] NpgsqlDataSource dataSource,
    IPluginRunner plugins,
    TimeProvider time,
    ILogger<DeviceService> logger)
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    public async Task<Device> CreateAsync(DeviceCreateRequest request, CancellationToken cancellationToken)
    {
        var ip = Ip(request.Ip);
        var port = Port(request.Port);
        var provision = new DeviceProvision(ip, port, Plugin(request.Plugin, plugins.InstalledPlugins()), PollInterval(request.PollIntervalSeconds),
            request.CredentialProfileId, Hostname: Text(request.Hostname, "hostname", 253), Description: Text(request.Description, "description", 1024),
            PollProfileId: request.PollProfileId);

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await CheckCredentialAsync(connection, transaction, provision.CredentialProfileId, cancellationToken);
        await PollProfileService.CheckExistsAsync(connection, transaction, provision.PollProfileId, "poll_profile_id", cancellationToken);
        var result = await ProvisionAsync(connection, transaction, provision, cancellationToken);
        if (!result.Created)
        {
            throw ProblemException.Conflict($"A device at {ip} port {port} already exists (id {result.DeviceId}).",
                new Dictionary<string, object?> { ["device_id"] = result.DeviceId });
        }

        var device = await SelectAsync(connection, transaction, result.DeviceId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return device;
    }

    /// <summary>
    /// Inserts an active device and schedules it, inside the caller's transaction, unless one already
    /// exists at (ip, port): then nothing changes and the existing id comes back with Created = false.
    /// </summary>
    private async Task<ProvisionResult> ProvisionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, DeviceProvision device, CancellationToken cancellationToken)
    {
        try
        {
            var result = await DeviceLifecycle.ProvisionAsync(connection, transaction, device, time.GetUtcNow(), cancellationToken);
            if (result.Created)
            {
                logger.LogInformation("Created device {DeviceId} at {Ip}:{Port} (plugin {Plugin})", result.DeviceId, device.Ip, device.Port, device.Plugin);
            }

            return result;
        }
        catch (PostgresException ex) when (ex.Violates(PostgresErrorCodes.ForeignKeyViolation, Constraints.DeviceCredential))
        {
            throw UnknownCredential(device.CredentialProfileId);
        }
    }

    public async Task<Device> GetAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await SelectAsync(connection, null, id, cancellationToken);
    }

    /// <summary>
    /// Keyset pagination in id order: the cursor is the last id seen, so rows inserted while a client
    /// pages (always with larger ids) never shift or repeat what it has not yet read.
    /// </summary>
    public async Task<Page<Device>> ListAsync(DeviceQuery query, CancellationToken cancellationToken)
    {
        var status = query.Status is null ? null : OneOf(query.Status, [DeviceStatus.Active, DeviceStatus.Inactive], "status");
        var plugin = Text(query.Plugin, "plugin", 64);
        var q = Text(query.Q, "q", 253);
        var after = query.Cursor is null ? 0 : DecodeCursor(query.Cursor);
        var limit = query.Limit ?? DefaultPageSize;
        if (limit is < 1 or > MaxPageSize)
        {
            throw ProblemException.BadRequest("limit", $"'limit' must be 1-{MaxPageSize}.");
        }

        var tag = query.Tag is null ? (Alerting.Tag?)null : Alerting.Tag.Parse(query.Tag, "tag");
        var pattern = string.IsNullOrEmpty(q) ? null : EscapeLike(q);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await EntityDb.QueryAsync(connection, null, EntitySql.ListDevices, Read, cancellationToken,
            after, status, plugin, pattern is null ? null : $"%{pattern}%", pattern is null ? null : $"{pattern}%", limit + 1, tag?.Key, tag?.Value);
        var more = rows.Count > limit;
        if (more)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        return new Page<Device>(rows, more ? EncodeCursor(rows[^1].Id) : null);
    }

    /// <summary>Interval, credential, and status: <c>active</c> reactivates, <c>inactive</c> deactivates by hand.</summary>
    public async Task<Device> UpdateAsync(long id, DevicePatchRequest request, CancellationToken cancellationToken)
    {
        var status = request.Status is null ? null : OneOf(request.Status, [DeviceStatus.Active, DeviceStatus.Inactive], "status");
        var reason = Text(request.DeactivationReason, "deactivation_reason", 200);
        if (reason is not null && status != DeviceStatus.Inactive)
        {
            throw ProblemException.BadRequest("deactivation_reason", "'deactivation_reason' goes with \"status\": \"inactive\".");
        }

        if (reason is not null && DeviceStatus.HealthReasons.Contains(reason, StringComparer.OrdinalIgnoreCase))
        {
            // The health monitor's reasons: its recovery probe reactivates devices it deactivated, never an operator's.
            throw ProblemException.BadRequest("deactivation_reason", $"'{reason}' is reserved for the health monitor's deactivations.");
        }

        var interval = request.PollIntervalSeconds is null ? (int?)null : PollInterval(request.PollIntervalSeconds);
        if (request.CredentialProfileId is <= 0)
        {
            throw UnknownCredential(request.CredentialProfileId);
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var current = await SelectForUpdateAsync(connection, transaction, id, cancellationToken);
        var now = time.GetUtcNow();
        if (request.CredentialProfileId is { } credentialId)
        {
            await CheckCredentialAsync(connection, transaction, credentialId, cancellationToken);
            try
            {
                await EntityDb.ExecuteAsync(connection, transaction, EntitySql.UpdateDeviceCredential, cancellationToken, id, credentialId, now);
            }
            catch (PostgresException ex) when (ex.Violates(PostgresErrorCodes.ForeignKeyViolation, Constraints.DeviceCredential))
            {
                throw UnknownCredential(credentialId);
            }
        }

        if (request.PollProfileIdGiven)
        {
            if (request.PollProfileId is { } pollProfileId)
            {
                await PollProfileService.CheckExistsAsync(connection, transaction, pollProfileId, "poll_profile_id", cancellationToken);
            }

            // null: back to the plugin's default set.
            await EntityDb.ExecuteAsync(connection, transaction, EntitySql.UpdateDevicePollProfile, cancellationToken, id, request.PollProfileId, now);
        }

        if (interval is not null)
        {
            await DeviceLifecycle.ChangeIntervalAsync(connection, transaction, id, interval.Value, now, cancellationToken);
        }

        if (status == DeviceStatus.Active && current.Status == DeviceStatus.Inactive)
        {
            await DeviceLifecycle.ReactivateByOperatorAsync(connection, transaction, id, interval ?? current.PollIntervalSeconds, now, cancellationToken);
            logger.LogInformation("Reactivated device {DeviceId}", id);
        }
        else if (status == DeviceStatus.Inactive && current.Status == DeviceStatus.Active)
        {
            await DeactivateAsync(connection, transaction, id, reason ?? DeviceStatus.ManualReason, cancellationToken);
        }

        var device = await SelectAsync(connection, transaction, id, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return device;
    }

    /// <summary>
    /// Marks an active device inactive by hand and removes its schedule row, in the caller's transaction.
    /// False when it was not active (already inactive, or gone): callers stay idempotent.
    /// </summary>
    private async Task<bool> DeactivateAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long id, string reason, CancellationToken cancellationToken)
    {
        var changed = await DeviceLifecycle.DeactivateByOperatorAsync(connection, transaction, id, reason, time.GetUtcNow(), cancellationToken);
        if (changed)
        {
            logger.LogInformation("Deactivated device {DeviceId}: {Reason}", id, reason);
        }

        return changed;
    }

    public async Task DeleteAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (!await DeviceLifecycle.DeleteAsync(connection, transaction, id, cancellationToken))
        {
            throw NotFound(id);
        }

        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Deleted device {DeviceId}", id);
    }

    internal static string EncodeCursor(long lastId) => Base64Url.EncodeToString(Encoding.ASCII.GetBytes(FormattableString.Invariant($"d1:{lastId}")));

    internal static long DecodeCursor(string cursor)
    {
        try
        {
            var text = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(cursor));
            if (text.StartsWith("d1:", StringComparison.Ordinal)
                && long.TryParse(text.AsSpan(3), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id))
            {
                return id;
            }
        }
        catch (FormatException)
        {
        }

        throw ProblemException.BadRequest("cursor", "'cursor' is not a cursor this API returned.");
    }

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

    private static async Task CheckCredentialAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long? credentialId, CancellationToken cancellationToken)
    {
        if (credentialId is null)
        {
            return;
        }

        var existing = await EntityDb.QueryAsync(connection, transaction, EntitySql.ExistingCredentials, r => r.GetInt64(0), cancellationToken, new[] { credentialId.Value });
        if (existing.Count == 0)
        {
            throw UnknownCredential(credentialId);
        }
    }

    private static async Task<Device> SelectAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, long id, CancellationToken cancellationToken) =>
        await EntityDb.QuerySingleAsync(connection, transaction, EntitySql.SelectDevice, Read, cancellationToken, id) ?? throw NotFound(id);

    private static async Task<Device> SelectForUpdateAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long id, CancellationToken cancellationToken)
    {
        var locked = await EntityDb.QueryAsync(connection, transaction, EntitySql.LockDevice, r => r.GetString(0), cancellationToken, id);
        return locked.Count == 0 ? throw NotFound(id) : await SelectAsync(connection, transaction, id, cancellationToken);
    }

    internal static Device Read(NpgsqlDataReader r) => new(
        r.GetInt64(0), r.GetString(1), r.GetInt32(2), r.NullableString(3), r.NullableString(4), r.GetString(5), r.NullableInt64(6), r.NullableInt64(7),
        r.GetInt32(8), r.GetString(9), r.NullableString(10), r.NullableString(11), r.NullableTimestamp(12),
        r.GetInt32(13), r.NullableTimestamp(14), r.NullableString(15), r.NullableString(16), r.NullableTimestamp(19), r.Timestamp(17), r.Timestamp(18),
        r.NullableInt64(20));

    private static ProblemException UnknownCredential(long? id) =>
        ProblemException.BadRequest("credential_profile_id", $"No credential profile with id {id}.");

    private static ProblemException NotFound(long id) => ProblemException.NotFound($"No device with id {id}.");
}
