using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nms.Core.Data;
using Nms.Core.Diagnostics;
using Npgsql;

namespace Nms.Core.Metrics;

/// <summary>
/// The seed's MetricsWriter: binary COPY into the hot table <c>metric_polls</c>, one row per device and
/// poll time with its series ids and values as arrays, on the dedicated metrics pool, so polling never starves API reads. Series ids
/// come from <see cref="MetricSeriesCatalog"/> (cached). Batches delivered at the same time are written together:
/// each caller prepares its rows, then <see cref="MetricsWriteGroup"/> commits whatever is waiting in one transaction
/// (one claim statement, one COPY, one commit). Idempotent under redelivery: every batch id is claimed in the
/// COPY's own transaction, and a batch whose id is already claimed writes nothing.
/// </summary>
public sealed partial class MetricsWriter
{
    private readonly NpgsqlDataSource metricsDataSource;
    private readonly MetricsPartitions partitions;
    private readonly MetricSeriesCatalog catalog;
    private readonly NmsInstruments instruments;
    private readonly TimeProvider time;
    private readonly ILogger<MetricsWriter> logger;
    private readonly MetricsWriteGroup group;

    public MetricsWriter(
        [FromKeyedServices(NmsDataSources.MetricsKey)] NpgsqlDataSource metricsDataSource,
        MetricsPartitions partitions,
        MetricSeriesCatalog catalog,
        NmsInstruments instruments,
        TimeProvider time,
        ILogger<MetricsWriter> logger)
    {
        this.metricsDataSource = metricsDataSource;
        this.partitions = partitions;
        this.catalog = catalog;
        this.instruments = instruments;
        this.time = time;
        this.logger = logger;
        group = new MetricsWriteGroup(WriteTogetherAsync);
    }

    /// <summary>Calls whose batch waits for the write in flight to finish (tests wait on it).</summary>
    internal int WritesWaiting => group.Waiting;

    /// <summary>Whether the claim is prepared: true until the database says a prepared statement is missing.</summary>
    internal bool ClaimsPrepared { get; private set; } = true;

    /// <summary>Rows written: 0 when the batch was written before (or is empty).</summary>
    public async Task<int> WriteAsync(MetricsBatchMessage batch, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var prepared = await PrepareAsync(batch, cancellationToken);
        var written = await group.WriteAsync(prepared, cancellationToken);
        if (written)
        {
            instruments.RowsWritten.Add(prepared.Samples);
            LogWritten(batch.BatchId, prepared.Samples, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return prepared.Samples;
        }

        LogDuplicate(batch.BatchId);
        return 0;
    }

    /// <summary>Everything but the database write, done by each caller on its own: names checked, partitions and series ids.</summary>
    private async Task<PreparedBatch> PrepareAsync(MetricsBatchMessage batch, CancellationToken cancellationToken)
    {
        var polls = WithValidNames(batch);
        await partitions.EnsureHotDaysAsync(polls.Select(p => DateOnly.FromDateTime(p.Ts.UtcDateTime)), cancellationToken);
        var seriesIds = await catalog.IdsAsync(polls, cancellationToken);
        var (rows, samples) = MetricPollsCopyFormat.Encode(polls, seriesIds);
        return new PreparedBatch(batch.BatchId, rows, samples);
    }

    /// <summary>
    /// One transaction for the group, in three round trips where nothing was written before (every delivery but a
    /// redelivery): COPY the rows (two), then claim the batch ids and commit (one). A batch id written before makes
    /// the claim fail, the transaction roll back, and the group is written again claiming first.
    /// </summary>
    private async Task<HashSet<Guid>> WriteTogetherAsync(IReadOnlyList<PreparedBatch> batches, CancellationToken cancellationToken)
    {
        // A batch id twice in one group (a redelivery racing the first delivery) is written once. Ids in one order
        // in every group, so two groups in flight claiming the same ids wait on each other instead of deadlocking.
        var distinct = batches.DistinctBy(b => b.BatchId).OrderBy(b => b.BatchId).ToList();
        try
        {
            return await WriteClaimingLastAsync(distinct, cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && ex.ConstraintName == MetricsSql.BatchesKey)
        {
            return await WriteClaimingFirstAsync(distinct, cancellationToken);
        }
        catch (PostgresException ex) when (ClaimsPrepared && IsPreparedStatementLost(ex))
        {
            // A pooler that does not keep prepared statements (PgBouncer before 1.21, or max_prepared_statements = 0)
            // handed this transaction a server connection without it. The group was rolled back; unprepared from now on.
            ClaimsPrepared = false;
            LogClaimsUnprepared(ex.SqlState);
            return await WriteTogetherAsync(batches, cancellationToken);
        }
    }

    private static bool IsPreparedStatementLost(PostgresException ex) =>
        ex.SqlState is PostgresErrorCodes.InvalidSqlStatementName or PostgresErrorCodes.DuplicatePreparedStatement;

    private async Task<HashSet<Guid>> WriteClaimingLastAsync(List<PreparedBatch> batches, CancellationToken cancellationToken)
    {
        await using var connection = await metricsDataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await CopyAsync(connection, batches, cancellationToken);
        await using var claimAndCommit = new NpgsqlBatch(connection, transaction);
        claimAndCommit.BatchCommands.Add(Claim(MetricsSql.ClaimNewBatches, batches));
        claimAndCommit.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));

        // Prepared once per connection (the metrics pool keeps them, NmsDataSources): parsing and planning the claim
        // was a fifth of a group's cost in PostgreSQL.
        if (ClaimsPrepared)
        {
            await claimAndCommit.PrepareAsync(cancellationToken);
        }

        await claimAndCommit.ExecuteNonQueryAsync(cancellationToken);
        return batches.Select(b => b.BatchId).ToHashSet();
    }

    private async Task<HashSet<Guid>> WriteClaimingFirstAsync(List<PreparedBatch> batches, CancellationToken cancellationToken)
    {
        await using var connection = await metricsDataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var claimed = new HashSet<Guid>();
        await using (var claim = new NpgsqlBatch(connection, transaction) { BatchCommands = { Claim(MetricsSql.ClaimBatches, batches) } })
        {
            await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                claimed.Add(reader.GetGuid(0));
            }
        }

        if (claimed.Count == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            return claimed;
        }

        await CopyAsync(connection, batches.Where(b => claimed.Contains(b.BatchId)).ToList(), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return claimed;
    }

    private NpgsqlBatchCommand Claim(string sql, List<PreparedBatch> batches) => new(sql)
    {
        Parameters =
        {
            new NpgsqlParameter { Value = batches.Select(b => b.BatchId).ToArray() },
            new NpgsqlParameter { Value = batches.Select(b => b.Samples).ToArray() },
            new NpgsqlParameter { Value = time.GetUtcNow().UtcDateTime },
        },
    };

    /// <summary>The batches' rows in one COPY into the hot table (the ingest-groups bench writes groups with it too).</summary>
    internal static async Task CopyAsync(NpgsqlConnection connection, IReadOnlyList<PreparedBatch> batches, CancellationToken cancellationToken)
    {
        await using var copy = await connection.BeginRawBinaryCopyAsync(MetricsSql.Copy, cancellationToken);
        await copy.WriteAsync(MetricPollsCopyFormat.Header, cancellationToken);
        foreach (var batch in batches)
        {
            await copy.WriteAsync(batch.CopyRows, cancellationToken);
        }

        await copy.WriteAsync(MetricPollsCopyFormat.Trailer, cancellationToken);
    }

    /// <summary>A sample whose name the series dictionary cannot hold is dropped (and logged), not the batch.</summary>
    private List<MetricPoll> WithValidNames(MetricsBatchMessage batch)
    {
        var polls = batch.AllPolls();
        var dropped = 0;
        for (var p = 0; p < polls.Count; p++)
        {
            var invalid = 0;
            foreach (var value in polls[p].Values)
            {
                invalid += IsValidName(value.Name) ? 0 : 1;
            }

            if (invalid > 0)
            {
                dropped += invalid;
                polls[p] = polls[p] with { Values = polls[p].Values.Where(v => IsValidName(v.Name)).ToList() };
            }
        }

        if (dropped > 0)
        {
            LogBadNames(batch.BatchId, dropped);
        }

        return polls;
    }

    private static bool IsValidName(string? name) => !string.IsNullOrEmpty(name) && name.Length <= MetricsRequest.MaxNameLength;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Metrics batch {BatchId}: {Dropped} samples dropped, their names are empty or longer than 256 characters")]
    private partial void LogBadNames(Guid batchId, int dropped);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The metrics pool lost a prepared statement (SQLSTATE {SqlState}): a pooler in between does not keep them; batch claims are sent unprepared from now on (set PgBouncer's max_prepared_statements to keep them)")]
    private partial void LogClaimsUnprepared(string sqlState);

    [LoggerMessage(Level = LogLevel.Information, Message = "Metrics batch {BatchId} already written; nothing to do")]
    private partial void LogDuplicate(Guid batchId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Metrics batch {BatchId}: {Rows} rows written in {DurationMs:F1} ms")]
    private partial void LogWritten(Guid batchId, int rows, double durationMs);
}

/// <summary>A batch ready to COPY: its rows of <c>metric_polls</c> in binary COPY format, and how many samples they hold.</summary>
internal sealed record PreparedBatch(Guid BatchId, byte[] CopyRows, int Samples);
