using Nms.Core.Configuration;
using Nms.Core.Data;
using Npgsql;

namespace Nms.Core.Health;

/// <summary>The body of <c>GET /api/device_health</c>.</summary>
public sealed record DeviceHealthSummary(
    long Active,
    long Inactive,
    long Failing,
    int WindowSeconds,
    int Threshold,
    bool RecoveryProbeEnabled,
    IReadOnlyList<DeviceHealthTransition> LatestDeactivations,
    IReadOnlyList<DeviceHealthTransition> LatestReactivations);

/// <summary>
/// One deactivation (by the health consumer) or automatic reactivation (by the recovery probe),
/// with the device's current status and, while it is inactive, its recovery probe state.
/// </summary>
public sealed record DeviceHealthTransition(
    long DeviceId,
    string Ip,
    int Port,
    string? Hostname,
    string Status,
    string Reason,
    string? Error,
    DateTimeOffset At,
    int? RecoveryAttempts,
    DateTimeOffset? NextProbeAt);

/// <summary>One deactivation or reactivation, any reason (ping, poll, manual, the recovery probe's), with the device's current status.</summary>
public sealed record DeviceTransition(
    long DeviceId,
    string Ip,
    int Port,
    string? Hostname,
    string Status,
    string Kind,
    string Reason,
    string? Error,
    DateTimeOffset At);

public sealed class DeviceHealthReader(NmsDataSources dataSources, HealthOptions options)
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    public async Task<DeviceHealthSummary> ReadAsync(int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxLimit);

        await using var connection = await dataSources.Api.OpenConnectionAsync(cancellationToken);
        // One snapshot: counts and lists agree with each other.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        long active, inactive, failing;
        await using (var counts = new NpgsqlCommand(HealthSql.Counts, connection, transaction))
        {
            await using var reader = await counts.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            (active, inactive, failing) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        }

        var deactivations = await TransitionsAsync(connection, transaction, "deactivated", limit, cancellationToken);
        var reactivations = await TransitionsAsync(connection, transaction, "reactivated", limit, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new DeviceHealthSummary(active, inactive, failing, options.WindowSeconds, options.Threshold, options.RecoveryProbeEnabled, deactivations, reactivations);
    }

    private static async Task<IReadOnlyList<DeviceHealthTransition>> TransitionsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string kind, int limit, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(HealthSql.LatestTransitions, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kind });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<DeviceHealthTransition>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var status = reader.GetString(4);
            var inactive = status == "inactive";
            list.Add(new DeviceHealthTransition(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.GetInt32(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                status,
                reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.GetFieldValue<DateTimeOffset>(7),
                inactive ? reader.GetInt32(8) : null,
                inactive && !reader.IsDBNull(9) ? reader.GetFieldValue<DateTimeOffset>(9) : null));
        }

        return list;
    }

    /// <summary>Transitions since <paramref name="since"/>, newest first, of one device or all.</summary>
    public async Task<IReadOnlyList<DeviceTransition>> TransitionsAsync(DateTimeOffset since, long? deviceId, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxLimit);

        await using var command = dataSources.Api.CreateCommand(HealthSql.TransitionsSince);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = since });
        command.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = deviceId, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<DeviceTransition>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new DeviceTransition(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.GetInt32(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.GetString(4),
                reader.GetString(5),
                reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.GetFieldValue<DateTimeOffset>(8)));
        }

        return list;
    }
}
