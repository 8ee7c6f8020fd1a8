using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nms.Core.Data;
using Nms.Core.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace Nms.Core.Metrics;

/// <summary>
/// The seed's MetricsWriter: binary COPY into the hot table <c>metric_polls</c>, one row per device and
/// poll time with its series ids and values as arrays, on the dedicated metrics pool, so polling never starves API reads. Series ids
/// come from <see cref="MetricSeriesCatalog"/> (cached). Idempotent under redelivery: the batch id is
/// claimed in the COPY's own transaction, and a batch whose id is already claimed writes nothing.
/// </summary>
public sealed partial class MetricsWriter(
    [FromKeyedServices(NmsDataSources.MetricsKey)] NpgsqlDataSource metricsDataSource,
    MetricsPartitions partitions,
    MetricSeriesCatalog catalog,
    NmsInstruments instruments,
    TimeProvider time,
    ILogger<MetricsWriter> logger)
{
    /// <summary>Rows written: 0 when the batch was written before (or is empty).</summary>
    public async Task<int> WriteAsync(MetricsBatchMessage batch, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var samples = WithValidNames(batch);
        await partitions.EnsureHotDaysAsync(samples.Select(s => DateOnly.FromDateTime(s.Ts.UtcDateTime)), cancellationToken);
        var seriesIds = await catalog.IdsAsync(samples, cancellationToken);

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
            foreach (var poll in Polls(samples, seriesIds))
            {
                await importer.StartRowAsync(cancellationToken);
                await importer.WriteAsync(poll.DeviceId, NpgsqlDbType.Bigint, cancellationToken);
                await importer.WriteAsync(poll.Ts.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
                await importer.WriteAsync(poll.SeriesIds, NpgsqlDbType.Array | NpgsqlDbType.Bigint, cancellationToken);
                await importer.WriteAsync(poll.Values, NpgsqlDbType.Array | NpgsqlDbType.Double, cancellationToken);
            }

            await importer.CompleteAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        instruments.RowsWritten.Add(samples.Count);
        LogWritten(batch.BatchId, samples.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return samples.Count;
    }

    /// <summary>The hot table's rows: one per (device, time), in the order each first appears.</summary>
    private static IEnumerable<HotPoll> Polls(List<MetricSample> samples, long[] seriesIds)
    {
        var polls = new Dictionary<(long Device, DateTimeOffset Ts), (List<long> Ids, List<double> Values)>();
        for (var i = 0; i < samples.Count; i++)
        {
            var key = (samples[i].DeviceId, samples[i].Ts);
            if (!polls.TryGetValue(key, out var poll))
            {
                poll = ([], []);
                polls[key] = poll;
            }

            poll.Ids.Add(seriesIds[i]);
            poll.Values.Add(samples[i].Value);
        }

        return polls.Select(p => new HotPoll(p.Key.Device, p.Key.Ts, p.Value.Ids.ToArray(), p.Value.Values.ToArray()));
    }

    private sealed record HotPoll(long DeviceId, DateTimeOffset Ts, long[] SeriesIds, double[] Values);

    /// <summary>A sample whose name the series dictionary cannot hold is dropped (and logged), not the batch.</summary>
    private List<MetricSample> WithValidNames(MetricsBatchMessage batch)
    {
        var samples = batch.AllSamples();
        var dropped = samples.RemoveAll(s => string.IsNullOrEmpty(s.Name) || s.Name.Length > MetricsRequest.MaxNameLength);
        if (dropped > 0)
        {
            LogBadNames(batch.BatchId, dropped);
        }

        return samples;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Metrics batch {BatchId}: {Dropped} samples dropped, their names are empty or longer than 256 characters")]
    private partial void LogBadNames(Guid batchId, int dropped);

    [LoggerMessage(Level = LogLevel.Information, Message = "Metrics batch {BatchId} already written; nothing to do")]
    private partial void LogDuplicate(Guid batchId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Metrics batch {BatchId}: {Rows} rows written in {DurationMs:F1} ms")]
    private partial void LogWritten(Guid batchId, int rows, double durationMs);
}
