using Microsoft.Extensions.Logging;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Devices;
using Npgsql;

namespace Nms.Core.Health;

/// <summary>What the consumer did with one failure event.</summary>
public enum FailureOutcome
{
    Counted,
    CountedLate,
    IgnoredStale,
    Deactivated,
    DeactivationHeld,
    Duplicate,
    UnknownDevice,
    DeviceInactive,
    Invalid,
}

/// <summary>
/// The seed's HealthMonitor and FailureService: applies one <see cref="FailureEvent"/> to its device
/// in a single transaction. The device row is locked (FOR UPDATE), so parallel consumers serialise
/// per device; the event id is recorded in the same transaction (ON CONFLICT DO NOTHING), so a
/// redelivered event changes nothing; a deactivation sets the status, records reason, error and
/// time, and deletes the device's poll_schedule row in that same transaction.
/// </summary>
public sealed partial class HealthMonitor(
    NmsDataSources dataSources,
    HealthOptions options,
    HealthRecoveryOptions recovery,
    IDeactivationHold holds,
    TimeProvider time,
    ILogger<HealthMonitor> logger)
{
    public const int MaxErrorLength = 1_000;

    /// <summary>
    /// Each event of a batch on its own, in order, each idempotent by its event id: a batch redelivered after
    /// a failure part-way counts the events already recorded as duplicates and records the rest.
    /// </summary>
    public async Task RecordFailuresAsync(FailureBatchMessage batch, CancellationToken cancellationToken)
    {
        foreach (var failure in batch.Events)
        {
            await RecordFailureAsync(failure, cancellationToken);
        }
    }

    public async Task<FailureOutcome> RecordFailureAsync(FailureEvent failure, CancellationToken cancellationToken)
    {
        if (Invalid(failure) is { } problem)
        {
            // Retrying cannot fix it; poisoning it would only hide it in another queue.
            LogInvalid(failure.EventId, failure.DeviceId, problem);
            return FailureOutcome.Invalid;
        }

        var now = Microseconds(time.GetUtcNow());
        // A sender's clock ahead of ours must not put "last failure" in the future.
        var occurredAt = Microseconds(failure.OccurredAt > now ? now : failure.OccurredAt.ToUniversalTime());
        var error = Truncate(failure.Error);

        await using var connection = await dataSources.Api.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var device = await LockDeviceAsync(connection, transaction, failure.DeviceId, cancellationToken);
        if (device is null || device.Status != "active")
        {
            await transaction.CommitAsync(cancellationToken);
            var dropped = device is null ? FailureOutcome.UnknownDevice : FailureOutcome.DeviceInactive;
            LogDropped(failure.EventId, failure.DeviceId, dropped);
            return dropped;
        }

        if (!await RecordEventAsync(connection, transaction, failure, occurredAt, error, now, cancellationToken))
        {
            await transaction.CommitAsync(cancellationToken);
            LogDropped(failure.EventId, failure.DeviceId, FailureOutcome.Duplicate);
            return FailureOutcome.Duplicate;
        }

        var window = TimeSpan.FromSeconds(device.WindowSeconds);
        var decision = FailureWindow.Apply(device.State, occurredAt, window, device.Threshold, device.ReactivatedAt);
        if (decision.Effect == FailureEffect.IgnoredStale)
        {
            // The id stays recorded: a redelivery of this event is a duplicate, not stale again.
            await transaction.CommitAsync(cancellationToken);
            LogDropped(failure.EventId, failure.DeviceId, FailureOutcome.IgnoredStale);
            return FailureOutcome.IgnoredStale;
        }

        await DeviceLifecycle.RecordFailureCountAsync(connection, transaction, failure.DeviceId, decision.State.Count, decision.State.LastFailureAt!.Value,
            failure.Reason, error, newest: decision.Effect == FailureEffect.Counted, now, cancellationToken);

        if (!decision.ReachesThreshold)
        {
            await transaction.CommitAsync(cancellationToken);
            var outcome = decision.Effect == FailureEffect.Counted ? FailureOutcome.Counted : FailureOutcome.CountedLate;
            LogCounted(failure.DeviceId, failure.Reason, decision.State.Count, device.Threshold, device.WindowSeconds);
            return outcome;
        }

        if (await holds.HoldAsync(connection, transaction, failure.DeviceId, now, cancellationToken) is { } hold)
        {
            // Counted, not deactivated: the count keeps growing, so the first failure after the hold ends deactivates.
            await transaction.CommitAsync(cancellationToken);
            LogHeld(failure.DeviceId, device.Address, decision.State.Count, device.Threshold, hold);
            return FailureOutcome.DeactivationHeld;
        }

        // The deactivation records the newest failure, which a late event is not.
        var (reason, lastError) = decision.Effect == FailureEffect.CountedLate && device.LastReason is not null
            ? (device.LastReason, device.LastError)
            : (failure.Reason, error);
        await DeactivateAsync(connection, transaction, failure.DeviceId, reason, lastError, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        LogDeactivated(failure.DeviceId, device.Address, decision.State.Count, device.WindowSeconds, reason, lastError ?? "");
        return FailureOutcome.Deactivated;
    }

    /// <summary>Forgets failure event ids older than the retention; returns how many (bounded per call).</summary>
    public async Task<int> PruneProcessedEventsAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow().ToUniversalTime() - TimeSpan.FromDays(Math.Max(1, recovery.FailureEventRetentionDays));
        await using var command = dataSources.Api.CreateCommand(HealthSql.PruneFailureEvents);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = cutoff });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<LockedDevice?> LockDeviceAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long deviceId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(HealthSql.LockDevice, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = deviceId });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = Math.Max(1, options.WindowSeconds) });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = Math.Max(1, options.Threshold) });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var state = new FailureState(
            reader.GetInt32(1),
            reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2));
        return new LockedDevice(reader.GetString(0), state, reader.GetInt32(3), reader.GetInt32(4), reader.GetString(5),
            reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6),
            reader.IsDBNull(7) ? null : reader.GetString(7),
            reader.IsDBNull(8) ? null : reader.GetString(8));
    }

    private static async Task<bool> RecordEventAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, FailureEvent failure, DateTimeOffset occurredAt, string? error, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(HealthSql.RecordEvent, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = failure.EventId });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = failure.DeviceId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = failure.Reason });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = error, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = occurredAt });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    private async Task DeactivateAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long deviceId, string reason, string? error, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var firstProbe = now + RecoveryBackoff.Delay(0, BaseDelay(recovery), CapDelay(recovery));
        await DeviceLifecycle.DeactivateForFailuresAsync(connection, transaction, deviceId, reason, error, now, firstProbe, cancellationToken);
        await LogTransitionAsync(connection, transaction, deviceId, "deactivated", reason, error, now, cancellationToken);
    }

    internal static async Task LogTransitionAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long deviceId, string kind, string reason, string? error, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(HealthSql.LogTransition, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = deviceId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kind });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = reason });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = error, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = at });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static TimeSpan BaseDelay(HealthRecoveryOptions recovery) => TimeSpan.FromSeconds(Math.Max(1, recovery.RecoveryBackoffBaseSeconds));

    internal static TimeSpan CapDelay(HealthRecoveryOptions recovery) => TimeSpan.FromSeconds(Math.Max(1, recovery.RecoveryBackoffCapSeconds));

    /// <summary>PostgreSQL keeps microseconds: compare what will be stored, not finer.</summary>
    internal static DateTimeOffset Microseconds(DateTimeOffset value) =>
        new(value.UtcTicks - (value.UtcTicks % 10), TimeSpan.Zero);

    internal static string? Truncate(string? error) =>
        error is { Length: > MaxErrorLength } ? error[..MaxErrorLength] : error;

    private static string? Invalid(FailureEvent failure)
    {
        if (failure.EventId == Guid.Empty)
        {
            return "event id is empty";
        }

        if (failure.Reason is not (FailureEvent.PingReason or FailureEvent.PollReason))
        {
            return "reason must be 'ping' or 'poll'";
        }

        return failure.OccurredAt == default ? "occurred_at is missing" : null;
    }

    private sealed record LockedDevice(string Status, FailureState State, int WindowSeconds, int Threshold, string Address, DateTimeOffset? ReactivatedAt, string? LastReason, string? LastError);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Device {DeviceId} ({Device}) deactivated: {Count} failures within {WindowSeconds} s, last {Reason}: {Error}")]
    private partial void LogDeactivated(long deviceId, string device, int count, int windowSeconds, string reason, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {DeviceId} ({Device}) not deactivated: {Count} failures of {Threshold}, held by {Hold}")]
    private partial void LogHeld(long deviceId, string device, int count, int threshold, string hold);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Device {DeviceId}: {Reason} failure counted, {Count} of {Threshold} within {WindowSeconds} s")]
    private partial void LogCounted(long deviceId, string reason, int count, int threshold, int windowSeconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Failure event {EventId} for device {DeviceId} dropped: {Outcome}")]
    private partial void LogDropped(Guid eventId, long deviceId, FailureOutcome outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Failure event {EventId} for device {DeviceId} is invalid and dropped: {Problem}")]
    private partial void LogInvalid(Guid eventId, long deviceId, string problem);
}
