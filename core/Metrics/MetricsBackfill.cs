using System.Globalization;
using Microsoft.Extensions.Logging;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Npgsql;

namespace Nms.Core.Metrics;

/// <summary>
/// Moves rows of earlier layouts into the hot table <c>metric_polls</c>, one old partition at a time,
/// <see cref="MetricsOptions.BackfillBatchSize"/> rows per transaction: each statement deletes the rows
/// it writes anew, so nothing is lost or copied twice and a restart resumes. Emptied partitions are
/// dropped. Two sources, in this order: the one-row-per-sample hot table of 050 (renamed
/// <c>metric_samples_050</c> by 052, dropped once empty), then the old store's <c>metrics</c> rows (into
/// the series dictionary too). Compaction then turns the moved samples into blocks and rollups.
/// </summary>
public sealed partial class MetricsBackfill(MetricsOptions options, ILogger<MetricsBackfill> logger) : IDataMigration
{
    private static readonly Source OldHotTable = new(MetricsSql.HotPartitions050, MetricsSql.MoveHotRows050, "metric_samples_p", "(none: the whole table goes)");
    private static readonly Source OldStore = new(MetricsSql.OldPartitions, MetricsSql.MoveOldRows, "metrics_p", "metrics_default");

    public string Name => "metrics v2 backfill";

    public Task RunAsync(NpgsqlConnection connection, CancellationToken cancellationToken) => RunAsync(connection, int.MaxValue, cancellationToken);

    /// <summary>At most <paramref name="maxBatches"/> batches (a test stops it halfway); returns the samples moved.</summary>
    public async Task<long> RunAsync(NpgsqlConnection connection, int maxBatches, CancellationToken cancellationToken)
    {
        var budget = new Budget(maxBatches);
        var moved = await MoveAsync(connection, OldHotTable, budget, cancellationToken);
        if (!budget.Spent)
        {
            await DropEmptyOldHotTableAsync(connection, cancellationToken);
            moved += await MoveAsync(connection, OldStore, budget, cancellationToken);
        }

        if (moved > 0)
        {
            LogMoved(moved);
        }

        return moved;
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "The partition name comes from pg_class and is quoted.")]
    private async Task<long> MoveAsync(NpgsqlConnection connection, Source source, Budget budget, CancellationToken cancellationToken)
    {
        long moved = 0;
        foreach (var partition in await PartitionsAsync(connection, source.PartitionsSql, cancellationToken))
        {
            await EnsureHotPartitionAsync(connection, partition, source.DayPrefix, cancellationToken);
            int rows;
            do
            {
                if (!budget.Take())
                {
                    return moved;
                }

                rows = await MoveBatchAsync(connection, source.MoveSql, partition, cancellationToken);
                moved += rows;
            }
            while (rows > 0);

            if (partition != source.KeptPartition)
            {
                await using var drop = new NpgsqlCommand($"DROP TABLE {Quote(partition)}", connection);
                await drop.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        return moved;
    }

    private static async Task DropEmptyOldHotTableAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var drop = new NpgsqlCommand("DROP TABLE IF EXISTS metric_samples_050", connection);
        await drop.ExecuteNonQueryAsync(cancellationToken);
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "Only MetricsSql constants.")]
    private static async Task<List<string>> PartitionsAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    /// <summary>The old day's hot partition, so moved rows do not pile up in the default partition.</summary>
    private static async Task EnsureHotPartitionAsync(NpgsqlConnection connection, string partition, string dayPrefix, CancellationToken cancellationToken)
    {
        if (!partition.StartsWith(dayPrefix, StringComparison.Ordinal) || !DateTime.TryParseExact(partition[dayPrefix.Length..], "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var day))
        {
            return;
        }

        await using var command = new NpgsqlCommand(MetricsSql.EnsurePartition, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = "metric_polls" });
        command.Parameters.Add(new NpgsqlParameter { Value = "ts" });
        command.Parameters.Add(new NpgsqlParameter { Value = TimeSpan.FromDays(1) });
        command.Parameters.Add(new NpgsqlParameter { Value = DateTime.SpecifyKind(day, DateTimeKind.Utc) });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "The partition name comes from pg_class and is quoted.")]
    private async Task<int> MoveBatchAsync(NpgsqlConnection connection, string moveSql, string partition, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(string.Format(CultureInfo.InvariantCulture, moveSql, Quote(partition)), connection);
        command.Parameters.Add(new NpgsqlParameter { Value = Math.Max(1, options.BackfillBatchSize) });
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>A layout to move from: its partitions, the move statement, day partitions' name prefix, and the partition kept (a default).</summary>
    private sealed record Source(string PartitionsSql, string MoveSql, string DayPrefix, string KeptPartition);

    /// <summary>Batches left for one run (a test stops it halfway).</summary>
    private sealed class Budget(int batches)
    {
        public bool Spent { get; private set; }

        public bool Take()
        {
            Spent |= batches-- <= 0;
            return !Spent;
        }
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    [LoggerMessage(Level = LogLevel.Information, Message = "Moved {Rows} samples of earlier layouts into the hot table")]
    private partial void LogMoved(long rows);
}
