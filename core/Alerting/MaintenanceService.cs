using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nms.Core.Api;
using Nms.Core.Entities;
using Nms.Core.Data;
using Nms.Core.Health;
using Npgsql;
using static Nms.Core.Entities.EntityValidation;

namespace Nms.Core.Alerting;

/// <summary>
/// Maintenance windows: one-off (starts_at, ends_at), weekly (days, HH:mm, duration) or NCRONTAB +
/// duration, in a named IANA time zone, scoped by device ids or tags. While one is open, alerts of
/// its devices change state but notify nobody.
/// </summary>
public sealed class MaintenanceService([FromKeyedServices(NmsDataSources.ApiKey)] NpgsqlDataSource dataSource, TimeProvider time, ILogger<MaintenanceService> logger)
    : IDeactivationHold
{
    public const int MaxDurationSeconds = 31 * 86_400;
    private const string UniqueName = "maintenance_windows_name_key";

    public async Task<MaintenanceWindow> CreateAsync(MaintenanceWindowRequest request, CancellationToken cancellationToken)
    {
        var valid = Validate(request);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var ids = await EntityDb.QueryAsync(connection, null, AlertingSql.InsertWindow, r => r.GetInt64(0), cancellationToken, Values(valid, time.GetUtcNow()));
            logger.LogInformation("Created maintenance window {WindowId} ({Kind})", ids[0], valid.Kind);
            return await SelectAsync(connection, ids[0], cancellationToken);
        }
        catch (PostgresException ex) when (ex.Violates(PostgresErrorCodes.UniqueViolation, UniqueName))
        {
            throw ProblemException.Conflict($"A maintenance window named '{valid.Name}' already exists.");
        }
    }

    public async Task<MaintenanceWindow> ReplaceAsync(long id, MaintenanceWindowRequest request, CancellationToken cancellationToken)
    {
        var valid = Validate(request);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            if (await EntityDb.ExecuteAsync(connection, null, AlertingSql.UpdateWindow, cancellationToken, Values(valid, time.GetUtcNow()).Prepend(id).ToArray()) == 0)
            {
                throw NotFound(id);
            }
        }
        catch (PostgresException ex) when (ex.Violates(PostgresErrorCodes.UniqueViolation, UniqueName))
        {
            throw ProblemException.Conflict($"A maintenance window named '{valid.Name}' already exists.");
        }

        return await SelectAsync(connection, id, cancellationToken);
    }

    public async Task<MaintenanceWindow> GetAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await SelectAsync(connection, id, cancellationToken);
    }

    public async Task<IReadOnlyList<MaintenanceWindow>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var now = time.GetUtcNow();
        return (await EntityDb.QueryAsync(connection, null, AlertingSql.ListWindows, Read, cancellationToken)).Select(w => w with { ActiveNow = MaintenanceSchedule.IsActive(w, now) }).ToList();
    }

    public async Task DeleteAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (await EntityDb.ExecuteAsync(connection, null, AlertingSql.DeleteWindow, cancellationToken, id) == 0)
        {
            throw NotFound(id);
        }
    }

    /// <summary>Ids of the windows open at <paramref name="now"/> (computed here: NCRONTAB and time zones are not SQL's).</summary>
    public async Task<long[]> ActiveWindowIdsAsync(NpgsqlConnection connection, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var windows = await EntityDb.QueryAsync(connection, null, AlertingSql.ListWindows, Read, cancellationToken);
        return windows.Where(w => MaintenanceSchedule.IsActive(w, now)).Select(w => w.Id).ToArray();
    }

    /// <summary>The health monitor asks: is the device in an open window with suppress_deactivation? Its name, or null.</summary>
    public async Task<string?> HoldAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long deviceId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var windows = await EntityDb.QueryAsync(connection, transaction, AlertingSql.DeactivationSuppressingWindows, Read, cancellationToken, deviceId);
        return windows.FirstOrDefault(w => MaintenanceSchedule.IsActive(w, now)) is { } open ? $"maintenance window {open.Id} '{open.Name}'" : null;
    }

    internal static MaintenanceWindowRequest Validate(MaintenanceWindowRequest request)
    {
        var kind = OneOf(request.Kind, ["one_off", "weekly", "cron"], "kind");
        var zone = request.TimeZone ?? "UTC";
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _))
        {
            throw ProblemException.BadRequest("time_zone", $"'{zone}' is not a known time zone (IANA names, e.g. Europe/Amsterdam).");
        }

        var tags = Tag.ParseAll(request.ScopeTags, "scope_tags");
        var ids = request.ScopeDeviceIds ?? [];
        if (tags.Count == 0 && ids.Count == 0)
        {
            throw ProblemException.BadRequest("scope_tags", "A maintenance window needs 'scope_tags' or 'scope_device_ids'.");
        }

        var valid = request with { Name = RequiredText(request.Name, "name"), Kind = kind, TimeZone = zone, ScopeTags = Tag.Texts(tags), ScopeDeviceIds = ids.Distinct().ToList(), SuppressDeactivation = request.SuppressDeactivation ?? false };
        if (kind == "one_off")
        {
            var starts = request.StartsAt ?? throw ProblemException.BadRequest("starts_at", "'starts_at' is required for a one_off window.");
            var ends = request.EndsAt ?? throw ProblemException.BadRequest("ends_at", "'ends_at' is required for a one_off window.");
            if (ends <= starts)
            {
                throw ProblemException.BadRequest("ends_at", "'ends_at' must be after 'starts_at'.");
            }

            Absent(request.Cron, "cron", "for a one_off window");
            Absent(request.Weekdays, "weekdays", "for a one_off window");
            return valid with { Weekdays = [] };
        }

        var duration = request.DurationSeconds ?? throw ProblemException.BadRequest("duration_seconds", $"'duration_seconds' is required for a {kind} window.");
        if (duration is < 60 or > MaxDurationSeconds)
        {
            throw ProblemException.BadRequest("duration_seconds", $"'duration_seconds' must be 60-{MaxDurationSeconds}.");
        }

        Absent(request.StartsAt, "starts_at", $"for a {kind} window");
        Absent(request.EndsAt, "ends_at", $"for a {kind} window");
        if (kind == "cron")
        {
            var cron = RequiredText(request.Cron, "cron", 200);
            if (!MaintenanceSchedule.TryParseCron(cron))
            {
                throw ProblemException.BadRequest("cron", $"'{cron}' is not an NCRONTAB expression (5 or 6 fields).");
            }

            Absent(request.Weekdays, "weekdays", "for a cron window");
            return valid with { Cron = cron, Weekdays = [] };
        }

        var days = request.Weekdays is { Count: > 0 } w ? w : throw ProblemException.BadRequest("weekdays", "'weekdays' is required: mon, tue, wed, thu, fri, sat, sun.");
        for (var i = 0; i < days.Count; i++)
        {
            OneOf(days[i], MaintenanceSchedule.Weekdays, $"weekdays[{i}]");
        }

        if (!TimeOnly.TryParseExact(request.StartTime, "HH:mm", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out _))
        {
            throw ProblemException.BadRequest("start_time", "'start_time' is required as HH:mm (24 h, local to time_zone).");
        }

        Absent(request.Cron, "cron", "for a weekly window");
        return valid with { Weekdays = days.Distinct().ToList() };
    }

    private static object?[] Values(MaintenanceWindowRequest w, DateTimeOffset now) =>
    [
        w.Name, w.Kind, w.StartsAt, w.EndsAt, w.Weekdays!.Select(d => MaintenanceSchedule.Weekdays.ToList().IndexOf(d) + 1).ToArray(), w.StartTime, w.Cron, w.DurationSeconds,
        w.TimeZone, w.ScopeTags!.ToArray(), w.ScopeDeviceIds!.ToArray(), w.SuppressDeactivation, now,
    ];

    private async Task<MaintenanceWindow> SelectAsync(NpgsqlConnection connection, long id, CancellationToken cancellationToken) =>
        await EntityDb.QuerySingleAsync(connection, null, AlertingSql.SelectWindow, Read, cancellationToken, id) is { } window
            ? window with { ActiveNow = MaintenanceSchedule.IsActive(window, time.GetUtcNow()) }
            : throw NotFound(id);

    private static MaintenanceWindow Read(NpgsqlDataReader r) => new(
        r.GetInt64(0), r.GetString(1), r.GetString(2), r.NullableTimestamp(3), r.NullableTimestamp(4),
        r.GetFieldValue<int[]>(5).Select(d => MaintenanceSchedule.Weekdays[d - 1]).ToList(), r.NullableString(6), r.NullableString(7),
        r.IsDBNull(8) ? null : r.GetInt32(8), r.GetString(9), r.GetFieldValue<string[]>(10), r.GetFieldValue<long[]>(11), r.GetBoolean(12), false,
        r.Timestamp(13), r.Timestamp(14));

    private static ProblemException NotFound(long id) => ProblemException.NotFound($"No maintenance window with id {id}.");
}
