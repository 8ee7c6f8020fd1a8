using System.Globalization;
using Microsoft.Extensions.Logging;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Npgsql;

namespace Nms.Core.Metrics;

/// <summary>
/// Moves the old store's <c>metrics</c> rows into the v2 store (series dictionary + hot table), one
/// old partition at a time, <see cref="MetricsOptions.BackfillBatchSize"/> rows per transaction: each
/// statement deletes the rows it writes anew, so nothing is lost or copied twice and a restart resumes.
/// Emptied partitions are dropped. Compaction then turns the moved samples into blocks and rollups.
/// </summary>
public sealed partial class MetricsBackfill(MetricsOptions options, ILogger<MetricsBackfill> logger) : IDataMigration
{
    public string Name => "metrics v2 backfill";

    public Task RunAsync(NpgsqlConnection connection, CancellationToken cancellationToken) => RunAsync(connection, int.MaxValue, cancellationToken);

    /// <summary>At most <paramref name="maxBatches"/> batches (a test stops it halfway); returns the rows moved.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "The partition name comes from pg_class and is quoted.")]
    public async Task<long> RunAsync(NpgsqlConnection connection, int maxBatches, CancellationToken cancellationToken)
    {
        long moved = 0;
        var batches = 0;
        foreach (var partition in await OldPartitionsAsync(connection, cancellationToken))
        {
            await EnsureHotPartitionAsync(connection, partition, cancellationToken);
            int rows;
            do
            {
                if (batches++ == maxBatches)
                {
                    return moved;
                }

                rows = await MoveBatchAsync(connection, partition, cancellationToken);
                moved += rows;
            }
            while (rows > 0);

            if (partition != "metrics_default")
            {
                await using var drop = new NpgsqlCommand($"DROP TABLE {Quote(partition)}", connection);
                await drop.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        if (moved > 0)
        {
            LogMoved(moved);
        }

        return moved;
    }

    private static async Task<List<string>> OldPartitionsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(MetricsSql.OldPartitions, connection);
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    /// <summary>The old day's hot partition, so moved rows do not pile up in the default partition.</summary>
    private static async Task EnsureHotPartitionAsync(NpgsqlConnection connection, string partition, CancellationToken cancellationToken)
    {
        if (!DateTime.TryParseExact(partition.Replace("metrics_p", "", StringComparison.Ordinal), "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var day))
        {
            return;
        }

        await using var command = new NpgsqlCommand(MetricsSql.EnsurePartition, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = "metric_samples" });
        command.Parameters.Add(new NpgsqlParameter { Value = "ts" });
        command.Parameters.Add(new NpgsqlParameter { Value = TimeSpan.FromDays(1) });
        command.Parameters.Add(new NpgsqlParameter { Value = DateTime.SpecifyKind(day, DateTimeKind.Utc) });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "The partition name comes from pg_class and is quoted.")]
    private async Task<int> MoveBatchAsync(NpgsqlConnection connection, string partition, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(string.Format(CultureInfo.InvariantCulture, MetricsSql.MoveOldRows, Quote(partition)), connection);
        command.Parameters.Add(new NpgsqlParameter { Value = Math.Max(1, options.BackfillBatchSize) });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    [LoggerMessage(Level = LogLevel.Information, Message = "Moved {Rows} rows of the old metrics table into the v2 store")]
    private partial void LogMoved(long rows);
}
