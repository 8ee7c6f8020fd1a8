using System.Net;
using Npgsql;
using NpgsqlTypes;

namespace Nms.Core.Devices;

/// <summary>
/// A device to provision: by hand (the API) or found by discovery. The failure window and threshold
/// override the health defaults for this device (null: the defaults).
/// </summary>
public sealed record DeviceProvision(
    IPAddress Ip,
    int Port,
    string Plugin,
    int PollIntervalSeconds,
    long? CredentialProfileId = null,
    long? DiscoveryProfileId = null,
    string? Hostname = null,
    string? Description = null,
    string? HostKey = null,
    int? FailureWindowSeconds = null,
    int? FailureThreshold = null,
    long? PollProfileId = null);

/// <summary><paramref name="Created"/> false: a device at that (ip, port) already existed and was left alone.</summary>
public sealed record ProvisionResult(long DeviceId, bool Created);

/// <summary>A device new from a bulk provisioning.</summary>
public sealed record ProvisionedDevice(long DeviceId, string Ip, int Port);

/// <summary>A device popped from the deadline table, with the deadline it was due at.</summary>
public sealed record PoppedDevice(long DeviceId, DateTimeOffset DueAt);

/// <summary>
/// The one owner of a device's lifecycle, the seed's EntityService successor: provision (by hand or by
/// discovery), deactivate (by hand or by the health monitor), reactivate (by an operator or by the
/// recovery probe), schedule (the scheduler's pop, deadlines given back, a changed interval), and the
/// failure and recovery bookkeeping. Every operation runs in the caller's connection and transaction,
/// so a device's row and its <c>poll_schedule</c> row always change together with whatever else the
/// caller commits; nothing else writes them (the statements are in <see cref="DeviceLifecycleSql"/>).
/// Invariant: a device is in the deadline table exactly while it is active.
/// </summary>
public static class DeviceLifecycle
{
    /// <summary>now + random(0, interval): devices created (or reactivated) together do not all fall due together.</summary>
    public static DateTimeOffset FirstDue(DateTimeOffset now, int intervalSeconds) =>
        now + TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * intervalSeconds * 1000);

    // ---- provisioning -------------------------------------------------------------------------

    /// <summary>
    /// Inserts an active, scheduled device unless one already exists at (ip, port): then nothing
    /// changes and the existing id comes back with Created = false. Safe under concurrency and
    /// redelivery: the unique (ip, port) constraint decides.
    /// </summary>
    public static async Task<ProvisionResult> ProvisionAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, DeviceProvision device, DateTimeOffset now, CancellationToken cancellationToken)
    {
        while (true)
        {
            var created = await ProvisionManyAsync(connection, transaction, [device], now, cancellationToken);
            if (created.Count > 0)
            {
                return new ProvisionResult(created[0].DeviceId, Created: true);
            }

            // The conflicting row has committed (ON CONFLICT waited for it); unless it was deleted since, this finds it.
            await using var command = Command(connection, transaction, DeviceLifecycleSql.DeviceIdAt, Value(device.Ip), Value(device.Port));
            if (await command.ExecuteScalarAsync(cancellationToken) is long existing)
            {
                return new ProvisionResult(existing, Created: false);
            }
        }
    }

    /// <summary>
    /// Inserts the devices not yet known at their (ip, port), each active and due within its interval;
    /// known ones stay exactly as they are. Returns the new ones.
    /// </summary>
    public static async Task<IReadOnlyList<ProvisionedDevice>> ProvisionManyAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<DeviceProvision> devices, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var created = new List<ProvisionedDevice>();
        if (devices.Count == 0)
        {
            return created;
        }

        await using var command = Command(connection, transaction, DeviceLifecycleSql.Provision,
            Value(devices.Select(d => d.Ip).ToArray()),
            Value(devices.Select(d => d.Port).ToArray()),
            Value(devices.Select(d => d.Hostname).ToArray()),
            Value(devices.Select(d => d.Description).ToArray()),
            Value(devices.Select(d => d.Plugin).ToArray()),
            Value(devices.Select(d => d.CredentialProfileId).ToArray()),
            Value(devices.Select(d => d.DiscoveryProfileId).ToArray()),
            Value(devices.Select(d => d.PollIntervalSeconds).ToArray()),
            Value(devices.Select(d => d.HostKey).ToArray()),
            Value(devices.Select(d => FirstDue(now, d.PollIntervalSeconds)).ToArray()),
            Value(now),
            Value(devices.Select(d => d.FailureWindowSeconds).ToArray()),
            Value(devices.Select(d => d.FailureThreshold).ToArray()),
            Value(devices.Select(d => d.PollProfileId).ToArray()));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            created.Add(new ProvisionedDevice(reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2)));
        }

        return created;
    }

    /// <summary>Deletes the device and its deadline. False when there was no such device.</summary>
    public static async Task<bool> DeleteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long deviceId, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, transaction, DeviceLifecycleSql.Unschedule, cancellationToken, Value(deviceId));
        return await ExecuteAsync(connection, transaction, DeviceLifecycleSql.Delete, cancellationToken, Value(deviceId)) > 0;
    }

    // ---- deactivation -------------------------------------------------------------------------

    /// <summary>
    /// An operator takes an active device out of polling. False when it was not active (already
    /// inactive, or gone): callers stay idempotent. Its deadline goes either way.
    /// </summary>
    public static Task<bool> DeactivateByOperatorAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long deviceId, string reason, DateTimeOffset now, CancellationToken cancellationToken) =>
        DeactivateAsync(connection, transaction, deviceId, cancellationToken, DeviceLifecycleSql.DeactivateByOperator, Value(deviceId), Value(reason), Value(now));

    /// <summary>
    /// The health monitor deactivates an active device that kept failing, and sets its first recovery
    /// probe (set even with the probe off: switching it on later finds these devices). False when it was not active.
    /// </summary>
    public static Task<bool> DeactivateForFailuresAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long deviceId, string reason, string? error, DateTimeOffset now, DateTimeOffset firstProbeAt,
        CancellationToken cancellationToken) =>
        DeactivateAsync(connection, transaction, deviceId, cancellationToken, DeviceLifecycleSql.DeactivateForFailures,
            Value(deviceId), Value(reason), Text(error), Value(now), Value(firstProbeAt));

    private static async Task<bool> DeactivateAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long deviceId, CancellationToken cancellationToken, string sql, params NpgsqlParameter[] parameters)
    {
        var changed = await ExecuteAsync(connection, transaction, sql, cancellationToken, parameters);
        await ExecuteAsync(connection, transaction, DeviceLifecycleSql.Unschedule, cancellationToken, Value(deviceId));
        return changed > 0;
    }

    // ---- reactivation -------------------------------------------------------------------------

    /// <summary>
    /// An operator brings an inactive device back: counters reset, <c>reactivated_at</c> = now (failures
    /// from before it no longer count), due within its interval. False when it was not inactive.
    /// </summary>
    public static async Task<bool> ReactivateByOperatorAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long deviceId, int intervalSeconds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await ExecuteAsync(connection, transaction, DeviceLifecycleSql.ReactivateByOperator, cancellationToken, Value(deviceId), Value(now)) == 0)
        {
            return false;
        }

        await ScheduleAsync(connection, transaction, deviceId, FirstDue(now, intervalSeconds), cancellationToken);
        return true;
    }

    /// <summary>
    /// The recovery probe brings back a device it found answering, if it is still in the deactivation
    /// the probe claimed (<paramref name="deactivatedAt"/>; an operator's change in between wins). It is
    /// polled on the scheduler's next tick. False when the device changed since the claim.
    /// </summary>
    public static async Task<bool> ReactivateByProbeAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long deviceId, DateTimeOffset deactivatedAt, string reason, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        if (await ExecuteAsync(connection, transaction, DeviceLifecycleSql.ReactivateByProbe, cancellationToken,
                Value(deviceId), Value(now), Value(reason), Value(deactivatedAt)) == 0)
        {
            return false;
        }

        await ScheduleAsync(connection, transaction, deviceId, now, cancellationToken);
        return true;
    }

    // ---- the deadline table -------------------------------------------------------------------

    /// <summary>Pops up to <paramref name="limit"/> devices due at <paramref name="now"/>, moving their deadlines forward by whole intervals.</summary>
    public static async Task<IReadOnlyList<PoppedDevice>> PopDueAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, DeviceLifecycleSql.PopDue, Value(now), Value(limit));
        var devices = new List<PoppedDevice>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            devices.Add(new PoppedDevice(reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1)));
        }

        devices.Sort((a, b) => a.DueAt.CompareTo(b.DueAt));
        return devices;
    }

    /// <summary>
    /// Gives popped devices the deadlines they were popped at (their poll could not be enqueued), so the
    /// next tick pops them again instead of skipping a whole interval. A deadline moved since stays.
    /// </summary>
    public static async Task GiveBackDeadlinesAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<(long DeviceId, DateTimeOffset DueAt)> deadlines, CancellationToken cancellationToken) =>
        await ExecuteAsync(connection, transaction, DeviceLifecycleSql.GiveBackDeadlines, cancellationToken,
            Value(deadlines.Select(d => d.DeviceId).ToArray()), Value(deadlines.Select(d => d.DueAt).ToArray()));

    /// <summary>Moves scheduled (active) devices' deadlines, earlier or later; nothing for an inactive one.</summary>
    public static async Task RescheduleAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<(long DeviceId, DateTimeOffset DueAt)> deadlines, CancellationToken cancellationToken) =>
        await ExecuteAsync(connection, transaction, DeviceLifecycleSql.Reschedule, cancellationToken,
            Value(deadlines.Select(d => d.DeviceId).ToArray()), Value(deadlines.Select(d => d.DueAt).ToArray()));

    /// <summary>A new poll interval; a scheduled device falls due within the new interval if that is sooner than its deadline.</summary>
    public static async Task ChangeIntervalAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long deviceId, int intervalSeconds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, transaction, DeviceLifecycleSql.ChangeInterval, cancellationToken, Value(deviceId), Value(intervalSeconds), Value(now));
        await ExecuteAsync(connection, transaction, DeviceLifecycleSql.PullDeadlineIn, cancellationToken, Value(deviceId), Value(FirstDue(now, intervalSeconds)));
    }

    private static Task ScheduleAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long deviceId, DateTimeOffset dueAt, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction, DeviceLifecycleSql.Schedule, cancellationToken, Value(deviceId), Value(dueAt));

    // ---- failure and recovery fields ----------------------------------------------------------

    /// <summary>
    /// The health monitor's count for a device within its window, and its last failure; the reason and
    /// error become the "last failure" only when <paramref name="newest"/> (an event older than the last failure does not).
    /// </summary>
    public static async Task RecordFailureCountAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long deviceId, int count, DateTimeOffset lastFailureAt, string reason, string? error, bool newest,
        DateTimeOffset now, CancellationToken cancellationToken) =>
        await ExecuteAsync(connection, transaction, DeviceLifecycleSql.RecordFailureCount, cancellationToken,
            Value(deviceId), Value(count), Value(lastFailureAt), Value(reason), Text(error), Value(now), Value(newest));

    /// <summary>A successful poll clears the devices' failure counts.</summary>
    public static async Task ClearFailureCountsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<long> deviceIds, CancellationToken cancellationToken) =>
        await ExecuteAsync(connection, transaction, DeviceLifecycleSql.ClearFailureCounts, cancellationToken, Value(deviceIds.ToArray()));

    /// <summary>The recovery probe's claim: each device's attempt number and next probe time, before it is probed.</summary>
    public static async Task ScheduleNextProbesAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<(long DeviceId, int Attempts, DateTimeOffset NextProbeAt)> probes, DateTimeOffset now,
        CancellationToken cancellationToken) =>
        await ExecuteAsync(connection, transaction, DeviceLifecycleSql.ScheduleNextProbes, cancellationToken,
            Value(probes.Select(p => p.DeviceId).ToArray()), Value(probes.Select(p => p.Attempts).ToArray()), Value(probes.Select(p => p.NextProbeAt).ToArray()), Value(now));

    /// <summary>Why the last probe failed, if the device is still in the deactivation that was probed.</summary>
    public static async Task RecordProbeFailureAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long deviceId, DateTimeOffset deactivatedAt, string error, CancellationToken cancellationToken) =>
        await ExecuteAsync(connection, transaction, DeviceLifecycleSql.RecordProbeFailure, cancellationToken, Value(deviceId), Value(deactivatedAt), Value(error));

    // ---- commands -----------------------------------------------------------------------------

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "Callers pass DeviceLifecycleSql constants; values travel as parameters.")]
    private static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddRange(parameters);
        return command;
    }

    private static async Task<int> ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static NpgsqlParameter<T> Value<T>(T value) => new() { TypedValue = value };

    private static NpgsqlParameter<string?> Text(string? value) => new() { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Text };
}
