using System.Net;
using Nms.Core.Devices;
using Npgsql;

namespace Nms.Tests.Infrastructure;

/// <summary>
/// Devices made and changed the way the app does it: through <see cref="DeviceLifecycle"/>, each
/// change in a transaction of its own. Tests never write status, failure fields or deadlines by hand.
/// </summary>
public static class TestDevices
{
    /// <summary>Provisions an active device, due at <paramref name="dueAt"/> (default: within its interval). Returns its id.</summary>
    public static async Task<long> AddDeviceAsync(this NpgsqlDataSource db, DeviceProvision device, DateTimeOffset? dueAt = null, DateTimeOffset? now = null) =>
        (await db.AddDevicesAsync([device], dueAt, now)).Single();

    /// <summary>An active device at <paramref name="ip"/>:<paramref name="port"/>, due at <paramref name="dueAt"/>.</summary>
    public static Task<long> AddDeviceAsync(
        this NpgsqlDataSource db, string ip, int port, string plugin, DateTimeOffset? dueAt = null, int intervalSeconds = 60, long? credentialId = null, string? hostKey = null) =>
        db.AddDeviceAsync(new DeviceProvision(IPAddress.Parse(ip), port, plugin, intervalSeconds, credentialId, HostKey: hostKey), dueAt);

    /// <summary>Provisions devices in one transaction, all due at <paramref name="dueAt"/> when given. Returns their ids in order.</summary>
    public static Task<IReadOnlyList<long>> AddDevicesAsync(this NpgsqlDataSource db, IReadOnlyList<DeviceProvision> devices, DateTimeOffset? dueAt = null, DateTimeOffset? now = null) =>
        db.InTransactionAsync<IReadOnlyList<long>>(async (connection, transaction) =>
        {
            var created = await DeviceLifecycle.ProvisionManyAsync(connection, transaction, devices, now ?? DateTimeOffset.UtcNow, CancellationToken.None);
            Assert.Equal(devices.Count, created.Count);
            if (dueAt is { } due)
            {
                await DeviceLifecycle.RescheduleAsync(connection, transaction, created.Select(d => (d.DeviceId, due)).ToList(), CancellationToken.None);
            }

            var ids = created.ToDictionary(d => (d.Ip, d.Port), d => d.DeviceId);
            return devices.Select(d => ids[(d.Ip.ToString(), d.Port)]).ToList();
        });

    public static Task DeactivateByOperatorAsync(this NpgsqlDataSource db, long deviceId, string reason = "manual", DateTimeOffset? now = null) =>
        db.InTransactionAsync((connection, transaction) =>
            DeviceLifecycle.DeactivateByOperatorAsync(connection, transaction, deviceId, reason, now ?? DateTimeOffset.UtcNow, CancellationToken.None));

    public static Task ReactivateByOperatorAsync(this NpgsqlDataSource db, long deviceId, int intervalSeconds, DateTimeOffset? now = null) =>
        db.InTransactionAsync((connection, transaction) =>
            DeviceLifecycle.ReactivateByOperatorAsync(connection, transaction, deviceId, intervalSeconds, now ?? DateTimeOffset.UtcNow, CancellationToken.None));

    public static Task DeleteDeviceAsync(this NpgsqlDataSource db, long deviceId) =>
        db.InTransactionAsync((connection, transaction) => DeviceLifecycle.DeleteAsync(connection, transaction, deviceId, CancellationToken.None));

    public static Task RescheduleAsync(this NpgsqlDataSource db, long deviceId, DateTimeOffset dueAt) =>
        db.InTransactionAsync((connection, transaction) => DeviceLifecycle.RescheduleAsync(connection, transaction, [(deviceId, dueAt)], CancellationToken.None));

    public static Task ClearFailureCountsAsync(this NpgsqlDataSource db, params long[] deviceIds) =>
        db.InTransactionAsync((connection, transaction) => DeviceLifecycle.ClearFailureCountsAsync(connection, transaction, deviceIds, CancellationToken.None));

    /// <summary>The count the health monitor keeps, as if <paramref name="count"/> failures had been counted, the last at <paramref name="at"/>.</summary>
    public static Task RecordFailureCountAsync(this NpgsqlDataSource db, long deviceId, int count, DateTimeOffset at, string reason = "poll", string? error = "timeout") =>
        db.InTransactionAsync((connection, transaction) =>
            DeviceLifecycle.RecordFailureCountAsync(connection, transaction, deviceId, count, at, reason, error, newest: true, at, CancellationToken.None));

    public static async Task<T> InTransactionAsync<T>(this NpgsqlDataSource db, Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var result = await work(connection, transaction);
        await transaction.CommitAsync();
        return result;
    }

    public static Task InTransactionAsync(this NpgsqlDataSource db, Func<NpgsqlConnection, NpgsqlTransaction, Task> work) =>
        db.InTransactionAsync(async (connection, transaction) =>
        {
            await work(connection, transaction);
            return true;
        });
}
