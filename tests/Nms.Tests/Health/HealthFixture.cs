using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Nms.Core.Alerting;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Devices;
using Nms.Core.Health;
using Nms.Tests.Infrastructure;
using Npgsql;

namespace Nms.Tests.Health;

/// <summary>A device's health columns as the tests read them back.</summary>
public sealed record DeviceHealthRow(
    string Status,
    int FailureCount,
    DateTimeOffset? LastFailureAt,
    string? LastFailureReason,
    string? LastFailureError,
    string? DeactivationReason,
    string? DeactivationError,
    DateTimeOffset? DeactivatedAt,
    bool Scheduled,
    int RecoveryAttempts,
    DateTimeOffset? NextProbeAt,
    string? RecoveryLastError,
    string? ReactivationReason);

/// <summary>Rows and services for the health tests, on a real migrated database and a fake clock.</summary>
public sealed class HealthFixture : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 11, 27, 3, 0, 0, TimeSpan.Zero);

    private int nextHost;

    private HealthFixture(TestDatabase database)
    {
        Database = database;
        DataSources = new NmsDataSources(database.DataSource, database.DataSource);
        Loggers = LoggerFactory.Create(builder => builder.AddProvider(Logs).SetMinimumLevel(LogLevel.Debug));
    }

    public TestDatabase Database { get; }
    public NmsDataSources DataSources { get; }
    public FakeTimeProvider Time { get; } = new(Start);
    public HealthOptions Options { get; } = new() { WindowSeconds = 300, Threshold = 3 };
    public HealthRecoveryOptions Recovery { get; } = new() { RecoveryBackoffBaseSeconds = 60, RecoveryBackoffCapSeconds = 3_600 };
    public CapturedLogs Logs { get; } = new();
    public ILoggerFactory Loggers { get; }

    public static async Task<HealthFixture> CreateAsync() => new(await TestDatabase.CreateAsync());

    /// <summary>With alerting's maintenance windows as the deactivation hold, as the app wires it.</summary>
    public HealthMonitor Monitor() =>
        new(DataSources, Options, Recovery, new MaintenanceService(Database.DataSource, Time, Loggers.CreateLogger<MaintenanceService>()), Time, Loggers.CreateLogger<HealthMonitor>());

    public FailureEvent Failure(long deviceId, DateTimeOffset at, string reason = FailureEvent.PollReason, string? error = "timeout") =>
        new(Guid.NewGuid(), deviceId, reason, error, at);

    /// <summary>An active device on its own 127.x address, in poll_schedule.</summary>
    public async Task<long> AddDeviceAsync(int? windowSeconds = null, int? threshold = null, string plugin = "snmp", int port = 161, string? ip = null, long? credentialId = null, string? hostKey = null)
    {
        ip ??= $"127.10.{nextHost / 250}.{(Interlocked.Increment(ref nextHost) % 250) + 1}";
        var device = new DeviceProvision(IPAddress.Parse(ip), port, plugin, 60, credentialId, HostKey: hostKey, FailureWindowSeconds: windowSeconds, FailureThreshold: threshold);
        return await Database.DataSource.AddDeviceAsync(device, dueAt: Time.GetUtcNow(), now: Time.GetUtcNow());
    }

    public async Task<DeviceHealthRow> ReadAsync(long deviceId)
    {
        await using var command = Database.DataSource.CreateCommand("""
            SELECT status, failure_count, last_failure_at, last_failure_reason, last_failure_error,
                   deactivation_reason, deactivation_error, deactivated_at,
                   EXISTS (SELECT 1 FROM poll_schedule WHERE device_id = d.id),
                   recovery_attempts, recovery_next_probe_at, recovery_last_error, reactivation_reason
            FROM devices AS d WHERE id = $1
            """);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = deviceId });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"device {deviceId} exists");
        return new DeviceHealthRow(
            reader.GetString(0),
            reader.GetInt32(1),
            reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2),
            reader.IsDBNull(3) ? null : reader.GetString(3),
            reader.IsDBNull(4) ? null : reader.GetString(4),
            reader.IsDBNull(5) ? null : reader.GetString(5),
            reader.IsDBNull(6) ? null : reader.GetString(6),
            reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7),
            reader.GetBoolean(8),
            reader.GetInt32(9),
            reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10),
            reader.IsDBNull(11) ? null : reader.GetString(11),
            reader.IsDBNull(12) ? null : reader.GetString(12));
    }

    /// <summary>Opens <paramref name="connections"/> pooled connections at once, so concurrent work does not queue behind connecting.</summary>
    public async Task WarmPoolAsync(int connections)
    {
        var open = await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => Database.DataSource.OpenConnectionAsync().AsTask()));
        foreach (var connection in open)
        {
            await connection.DisposeAsync();
        }
    }

    public Task<long> TransitionsAsync(long deviceId, string kind) =>
        Database.ScalarAsync<long>("SELECT count(*) FROM device_health_events WHERE device_id = $1 AND kind = $2", deviceId, kind);

    /// <summary>What the poller does after a successful poll (the team's "success clears the count").</summary>
    public Task ClearFailuresAfterSuccessfulPollAsync(long deviceId) => Database.DataSource.ClearFailureCountsAsync(deviceId);

    /// <summary>What the entities API's PATCH reactivate does: counters reset, reactivated now, due again.</summary>
    public Task OperatorReactivatesAsync(long deviceId) => Database.DataSource.ReactivateByOperatorAsync(deviceId, 60, Time.GetUtcNow());

    public async ValueTask DisposeAsync()
    {
        Loggers.Dispose();
        await Database.DisposeAsync();
    }
}
