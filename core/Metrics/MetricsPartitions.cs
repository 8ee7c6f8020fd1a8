using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Npgsql;

namespace Nms.Core.Metrics;

/// <summary>A partitioned metrics table: its partition key, partition width and retention.</summary>
public sealed record MetricsTier(string Table, string Key, TimeSpan Width, int RetentionDays);

/// <summary>
/// Range partitions of the v2 tables (050_metrics_v2.sql) and per-tier retention by dropping whole
/// partitions (O(1), no row deletes): raw (hot rows and blocks), 5-minute and 1-hour rollups. The hot
/// table's days are created ahead by the maintenance timer and on first write; compaction creates
/// the partitions it writes into.
/// </summary>
public sealed partial class MetricsPartitions([FromKeyedServices(NmsDataSources.MetricsKey)] NpgsqlDataSource dataSource, MetricsOptions options, TimeProvider time, ILogger<MetricsPartitions> logger)
{
    private readonly ConcurrentDictionary<(string Table, DateTimeOffset Lower), Task> ensured = new();

    public MetricsTier Hot { get; } = new("metric_polls", "ts", TimeSpan.FromDays(1), options.RawRetentionDays);
    public MetricsTier Blocks { get; } = new("metric_blocks", "window_start", TimeSpan.FromDays(1), options.RawRetentionDays);
    public MetricsTier BlockTimes { get; } = new("metric_block_times", "window_start", TimeSpan.FromDays(1), options.RawRetentionDays);
    public MetricsTier Rollups5m { get; } = new("metric_rollups_5m", "bucket", TimeSpan.FromDays(7), options.Rollup5mRetentionDays);
    public MetricsTier Rollups1h { get; } = new("metric_rollups_1h", "bucket", TimeSpan.FromDays(28), options.Rollup1hRetentionDays);
    public MetricsTier RollupBlocks5m { get; } = new("metric_rollup_blocks_5m", "span_start", TimeSpan.FromDays(7), options.Rollup5mRetentionDays);
    public MetricsTier RollupBlocks1h { get; } = new("metric_rollup_blocks_1h", "span_start", TimeSpan.FromDays(28), options.Rollup1hRetentionDays);

    public IReadOnlyList<MetricsTier> Tiers => [Hot, Blocks, BlockTimes, Rollups5m, Rollups1h, RollupBlocks5m, RollupBlocks1h];

    public Task EnsureHotDaysAsync(IEnumerable<DateOnly> days, CancellationToken cancellationToken) =>
        EnsureAsync(Hot, days.Distinct().Select(d => new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)), cancellationToken);

    /// <summary>Creates (once per process) the partitions of <paramref name="tier"/> holding these times.</summary>
    public async Task EnsureAsync(MetricsTier tier, IEnumerable<DateTimeOffset> times, CancellationToken cancellationToken)
    {
        foreach (var lower in times.Select(t => Lower(tier, t)).Distinct())
        {
            var task = ensured.GetOrAdd((tier.Table, lower), key => CreateAsync(tier, key.Lower, CancellationToken.None));
            try
            {
                await task.WaitAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                ensured.TryRemove(new KeyValuePair<(string, DateTimeOffset), Task>((tier.Table, lower), task));
                throw;
            }
        }
    }

    /// <summary>The maintenance run: hot days ahead; every tier's partitions past its retention dropped.</summary>
    public async Task<MaintenanceResult> MaintainAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        await EnsureAsync(Hot, Enumerable.Range(0, Math.Max(0, options.PartitionDaysAhead) + 1).Select(i => today.AddDays(i)), cancellationToken);

        var dropped = 0;
        foreach (var tier in Tiers)
        {
            var cutoff = today.AddDays(-Math.Max(1, tier.RetentionDays));
            await using var command = dataSource.CreateCommand(MetricsSql.DropPartitionsBefore);
            command.Parameters.Add(new NpgsqlParameter { Value = tier.Table });
            command.Parameters.Add(new NpgsqlParameter { Value = tier.Key });
            command.Parameters.Add(new NpgsqlParameter { Value = tier.Width });
            command.Parameters.Add(new NpgsqlParameter { Value = cutoff.UtcDateTime });
            var count = (int)(await command.ExecuteScalarAsync(cancellationToken))!;
            dropped += count;
            foreach (var key in ensured.Keys.Where(k => k.Table == tier.Table && k.Lower + tier.Width <= cutoff))
            {
                ensured.TryRemove(key, out _);
            }

            LogDropped(tier.Table, count, cutoff);
        }

        await using (var command = dataSource.CreateCommand(MetricsSql.ForgetBatchesBefore))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = today.AddDays(-Math.Max(1, options.RawRetentionDays)).UtcDateTime });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return new MaintenanceResult(dropped);
    }

    /// <summary>Partitions start on multiples of their width from 2000-01-03 (nms_ensure_range_partition).</summary>
    private static DateTimeOffset Lower(MetricsTier tier, DateTimeOffset at)
    {
        var origin = new DateTimeOffset(2000, 1, 3, 0, 0, 0, TimeSpan.Zero);
        return origin + TimeSpan.FromTicks((at - origin).Ticks / tier.Width.Ticks * tier.Width.Ticks);
    }

    private async Task CreateAsync(MetricsTier tier, DateTimeOffset lower, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(MetricsSql.EnsurePartition);
        command.Parameters.Add(new NpgsqlParameter { Value = tier.Table });
        command.Parameters.Add(new NpgsqlParameter { Value = tier.Key });
        command.Parameters.Add(new NpgsqlParameter { Value = tier.Width });
        command.Parameters.Add(new NpgsqlParameter { Value = lower.UtcDateTime });
        if ((bool)(await command.ExecuteScalarAsync(cancellationToken))!)
        {
            LogCreated(tier.Table, lower);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created partition of {Table} from {Lower}")]
    private partial void LogCreated(string table, DateTimeOffset lower);

    [LoggerMessage(Level = LogLevel.Information, Message = "Metrics retention: {Dropped} partitions of {Table} dropped before {Cutoff}")]
    private partial void LogDropped(string table, int dropped, DateTimeOffset cutoff);
}

public sealed record MaintenanceResult(int Dropped);
