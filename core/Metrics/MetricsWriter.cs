using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nms.Core.Data;
using Nms.Core.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace Nms.Core.Metrics;

/// <summary>
/// The seed's MetricsWriter: binary COPY into <c>metrics</c> on the dedicated metrics pool, so polling
/// never starves API reads. Idempotent under redelivery: the batch id is claimed in the COPY's own
/// transaction, and a batch whose id is already claimed writes nothing.
/// </summary>
public sealed partial class MetricsWriter(
    [FromKeyedServices(NmsDataSources.MetricsKey)] NpgsqlDataSource metricsDataSource,
    MetricsPartitions partitions,
    NmsInstruments instruments,
    TimeProvider time,
    ILogger<MetricsWriter> logger)
{
    /// <summary>Rows written: 0 when the batch was written before (or is empty).</summary>
    public async Task<int> WriteAsync(MetricsBatchMessage batch, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var samples = batch.Samples ?? [];
        await partitions.EnsureDaysAsync(samples.Select(s => DateOnly.FromDateTime(s.Ts.UtcDateTime)), cancellationToken);

        await using var connection = await metricsDataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var claim = new NpgsqlCommand(MetricsSql.ClaimBatch, connection, transaction))
        {
            claim.Parameters.Add(new NpgsqlParameter { Value = batch.BatchId });
            claim.Parameters.Add(new NpgsqlParameter { Value = samples.Count });
            claim.Parameters.Add(new NpgsqlParameter { Value = time.GetUtcNow().UtcDateTime });
            if (await claim.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                await transaction.RollbackAsync(cancellationToken);
                LogDuplicate(batch.BatchId);
                return 0;
            }
        }

        await using (var importer = await connection.BeginBinaryImportAsync(MetricsSql.Copy, cancellationToken))
        {
            // Async writes complete synchronously while Npgsql's buffer has room; when it is full they
            // yield instead of blocking a thread-pool thread that the scheduler and pollers need.
            foreach (var sample in samples)
            {
                await importer.StartRowAsync(cancellationToken);
                await importer.WriteAsync(sample.DeviceId, NpgsqlDbType.Bigint, cancellationToken);
                await importer.WriteAsync(sample.Name, NpgsqlDbType.Text, cancellationToken);
                await importer.WriteAsync(LabelsJson(sample.Labels), NpgsqlDbType.Jsonb, cancellationToken);
                await importer.WriteAsync(sample.Value, NpgsqlDbType.Double, cancellationToken);
                await importer.WriteAsync(sample.Ts.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
            }

            await importer.CompleteAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        instruments.RowsWritten.Add(samples.Count);
        LogWritten(batch.BatchId, samples.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return samples.Count;
    }

    private static string LabelsJson(IReadOnlyDictionary<string, string>? labels)
    {
        if (labels is null || labels.Count == 0)
        {
            return "{}";
        }

        var buffer = new ArrayBufferWriter<byte>(64);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var (key, value) in labels)
            {
                json.WriteString(key, value);
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Metrics batch {BatchId} already written; nothing to do")]
    private partial void LogDuplicate(Guid batchId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Metrics batch {BatchId}: {Rows} rows written in {DurationMs:F1} ms")]
    private partial void LogWritten(Guid batchId, int rows, double durationMs);
}
