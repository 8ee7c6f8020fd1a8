using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Npgsql;

namespace Nms.Core.Metrics;

/// <summary>
/// Daily partitions of <c>metrics</c>: created <see cref="MetricsOptions.PartitionDaysAhead"/> days ahead
/// and dropped after <see cref="MetricsOptions.RetentionDays"/>. The writer also ensures the days it writes
/// exist (once per day per process), so the first write after startup never waits for the maintenance timer.
/// </summary>
public sealed partial class MetricsPartitions([FromKeyedServices(NmsDataSources.MetricsKey)] NpgsqlDataSource dataSource, MetricsOptions options, TimeProvider time, ILogger<MetricsPartitions> logger)
{
    private readonly ConcurrentDictionary<DateOnly, Task> ensured = new();

    public async Task EnsureDaysAsync(IEnumerable<DateOnly> days, CancellationToken cancellationToken)
    {
        foreach (var day in days.Distinct())
        {
            var task = ensured.GetOrAdd(day, d => EnsureAsync(d, CancellationToken.None));
            try
            {
                await task.WaitAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                ensured.TryRemove(new KeyValuePair<DateOnly, Task>(day, task));
                throw;
            }
        }
    }

    /// <summary>The maintenance run: create today .. today + days ahead, drop before today - retention.</summary>
    public async Task<MaintenanceResult> MaintainAsync(CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var created = 0;
        for (var i = 0; i <= Math.Max(0, options.PartitionDaysAhead); i++)
        {
            if (await EnsureAsync(today.AddDays(i), cancellationToken))
            {
                created++;
            }
        }

        var cutoff = today.AddDays(-Math.Max(1, options.RetentionDays));
        int dropped;
        await using (var command = dataSource.CreateCommand(MetricsSql.DropPartitionsBefore))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = cutoff });
            dropped = (int)(await command.ExecuteScalarAsync(cancellationToken))!;
        }

        await using (var command = dataSource.CreateCommand(MetricsSql.ForgetBatchesBefore))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = cutoff.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc) });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        foreach (var day in ensured.Keys.Where(d => d < cutoff))
        {
            ensured.TryRemove(day, out _);
        }

        LogMaintained(created, dropped, cutoff);
        return new MaintenanceResult(created, dropped, cutoff);
    }

    private async Task<bool> EnsureAsync(DateOnly day, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(MetricsSql.EnsurePartition);
        command.Parameters.Add(new NpgsqlParameter { Value = day });
        var created = (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
        if (created)
        {
            LogCreated(day);
        }

        return created;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created metrics partition for {Day}")]
    private partial void LogCreated(DateOnly day);

    [LoggerMessage(Level = LogLevel.Information, Message = "Metrics maintenance: {Created} partitions created, {Dropped} dropped before {Cutoff}")]
    private partial void LogMaintained(int created, int dropped, DateOnly cutoff);
}

public sealed record MaintenanceResult(int Created, int Dropped, DateOnly Cutoff);
