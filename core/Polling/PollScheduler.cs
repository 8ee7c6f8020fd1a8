using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Devices;
using Nms.Core.Diagnostics;
using Nms.Core.Observability;
using Nms.Core.Queues;
using Npgsql;

namespace Nms.Core.Polling;

/// <summary>What one scheduler tick did.</summary>
public sealed record SchedulerTickResult(int Popped, int Batches, long Backlog, TimeSpan OldestDueLag, TimeSpan Duration);

/// <summary>
/// The seed's Scheduler over the DeadlineQueue: pops due devices in chunks (each pop moves their deadline
/// forward in the same statement), and enqueues them as poll batches. Safe to run on many instances at once.
/// </summary>
public sealed partial class PollScheduler(
    [FromKeyedServices(NmsDataSources.ApiKey)] NpgsqlDataSource dataSource,
    IQueueSender queues,
    QueueNames queueNames,
    PollingOptions options,
    NmsInstruments instruments,
    TimeProvider time,
    ILogger<PollScheduler> logger)
{
    private const int MaxConcurrentSends = 8;
    private static readonly TimeSpan SlowTick = TimeSpan.FromSeconds(2);

    public async Task<SchedulerTickResult> TickAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var budget = TimeSpan.FromMilliseconds(Math.Max(1, options.TickBudgetMilliseconds));
        var chunkSize = Math.Max(1, options.PopChunkSize);
        int popped = 0, batches = 0;
        var popTime = TimeSpan.Zero;
        DateTimeOffset now;
        bool outOfBudget;
        // A chunk's sends overlap the next chunk's pop: the database and the queue service work at once.
        Task<int> enqueuing = Task.FromResult(0);
        while (true)
        {
            now = time.GetUtcNow();
            var step = Stopwatch.GetTimestamp();
            var chunk = await PopAsync(now, chunkSize, cancellationToken);
            popTime += Stopwatch.GetElapsedTime(step);
            popped += chunk.Count;
            foreach (var device in chunk)
            {
                instruments.SchedulerLag.Record((now - device.DueAt).TotalSeconds);
            }

            instruments.DevicesPopped.Add(chunk.Count);
            var full = chunk.Count == chunkSize;
            batches += await AfterPreviousAsync(enqueuing, chunk);
            // A full chunk means a backlog (an outage, a first start): fewer, fuller poll messages and larger pops.
            enqueuing = EnqueueAsync(chunk, now, full ? Math.Max(options.BatchSize, options.BacklogBatchSize) : options.BatchSize, cancellationToken);
            outOfBudget = full && Stopwatch.GetElapsedTime(started) >= budget;
            if (!full || outOfBudget)
            {
                break;
            }

            chunkSize = Math.Min(chunkSize * 2, Math.Max(options.PopChunkSize, options.MaxPopChunkSize));
        }

        batches += await enqueuing;
        var enqueueTime = Stopwatch.GetElapsedTime(started) - popTime;

        // The backlog as of the last pop: zero unless the budget ran out with devices still due.
        var (backlog, oldest) = outOfBudget ? await BacklogAsync(now, cancellationToken) : (0L, null);
        var lag = oldest is { } due ? time.GetUtcNow() - due : TimeSpan.Zero;
        instruments.ReportBacklog(backlog, lag.TotalSeconds);
        var duration = Stopwatch.GetElapsedTime(started);
        if (backlog > 0)
        {
            LogBacklog(backlog, lag.TotalSeconds, popped, duration.TotalMilliseconds);
        }
        else if (duration > SlowTick)
        {
            LogSlowTick(popped, batches, duration.TotalMilliseconds, popTime.TotalMilliseconds, enqueueTime.TotalMilliseconds);
        }
        else if (popped > 0)
        {
            LogTick(popped, batches, duration.TotalMilliseconds);
        }

        return new SchedulerTickResult(popped, batches, backlog, lag, duration);
    }

    /// <summary>Pops up to <paramref name="limit"/> devices due at <paramref name="now"/>, moving their deadlines forward.</summary>
    public async Task<IReadOnlyList<PoppedDevice>> PopAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var devices = await DeviceLifecycle.PopDueAsync(connection, transaction, now, limit, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return devices;
    }

    private async Task<int> EnqueueAsync(IReadOnlyList<PoppedDevice> devices, DateTimeOffset now, int batchSize, CancellationToken cancellationToken)
    {
        if (devices.Count == 0)
        {
            return 0;
        }

        var batches = Batches(devices, now, Math.Max(1, batchSize));
        // Whatever is not confirmed sent (a failed send, or sends never started after one failed or the
        // host stopped) gets its deadlines back, so it is popped again next tick rather than skipped.
        var sent = new System.Collections.Concurrent.ConcurrentDictionary<Guid, bool>();
        try
        {
            await Parallel.ForEachAsync(
                batches,
                new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentSends, CancellationToken = cancellationToken },
                async (batch, ct) =>
                {
                    using var activity = StartPollTrace(batch.BatchId);
                    await queues.SendAsync(queueNames.Poll, batch with { TraceParent = activity?.Id }, ct);
                    sent[batch.BatchId] = true;
                    LogEnqueued(batch.BatchId, batch.Devices.Count);
                });
        }
        catch (Exception ex)
        {
            var unsent = batches.Where(b => !sent.ContainsKey(b.BatchId)).SelectMany(b => b.Devices).ToList();
            LogEnqueueFailed(ex, batches.Count - sent.Count, unsent.Count);
            await UnpopAsync(unsent, CancellationToken.None);
            throw;
        }

        return batches.Count;
    }

    /// <summary>The previous chunk's sends; if they failed, this chunk (popped meanwhile) gets its deadlines back too.</summary>
    private async Task<int> AfterPreviousAsync(Task<int> enqueuing, IReadOnlyList<PoppedDevice> popped)
    {
        try
        {
            return await enqueuing;
        }
        catch
        {
            await UnpopAsync(popped.Select(d => new PollTarget(d.DeviceId, d.DueAt)).ToList(), CancellationToken.None);
            throw;
        }
    }

    /// <summary>
    /// Each poll batch is a trace of its own (scheduler, poller, writer, failure consumer), linked to the tick that
    /// popped it: one tick's trace holding every poll it scheduled would be one trace for the whole fleet.
    /// </summary>
    private static Activity? StartPollTrace(Guid batchId)
    {
        var tick = Activity.Current;
        Activity.Current = null;
        var activity = NmsActivities.Source.StartActivity(
            "PollScheduler.Enqueue", ActivityKind.Producer, default(ActivityContext),
            tags: [new("nms.batch_id", batchId.ToString())],
            links: tick is null ? null : [new ActivityLink(tick.Context)]);
        if (activity is null)
        {
            Activity.Current = tick;
        }

        return activity;
    }

    private static List<PollBatchMessage> Batches(IReadOnlyList<PoppedDevice> devices, DateTimeOffset now, int batchSize)
    {
        var batches = new List<PollBatchMessage>((devices.Count + batchSize - 1) / batchSize);
        for (var from = 0; from < devices.Count; from += batchSize)
        {
            var targets = new PollTarget[Math.Min(batchSize, devices.Count - from)];
            for (var i = 0; i < targets.Length; i++)
            {
                targets[i] = new PollTarget(devices[from + i].DeviceId, devices[from + i].DueAt);
            }

            batches.Add(new PollBatchMessage(Guid.NewGuid(), now, targets));
        }

        return batches;
    }

    private async Task UnpopAsync(IReadOnlyList<PollTarget> devices, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await DeviceLifecycle.GiveBackDeadlinesAsync(connection, transaction, devices.Select(d => (d.DeviceId, d.DueAt)).ToList(), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private async Task<(long Count, DateTimeOffset? Oldest)> BacklogAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(PollingSql.Backlog);
        command.Parameters.Add(new NpgsqlParameter { Value = now.UtcDateTime });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var count = reader.GetInt64(0);
        DateTimeOffset? oldest = reader.IsDBNull(1) ? null : new DateTimeOffset(reader.GetDateTime(1), TimeSpan.Zero);
        return (count, oldest);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Batches} poll batches with {Devices} devices could not be enqueued; their deadlines are given back")]
    private partial void LogEnqueueFailed(Exception exception, int batches, int devices);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Enqueued poll batch {BatchId} with {Devices} devices")]
    private partial void LogEnqueued(Guid batchId, int devices);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Scheduler tick popped {Popped} devices into {Batches} batches in {DurationMs:F0} ms")]
    private partial void LogTick(int popped, int batches, double durationMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slow scheduler tick: {Popped} devices into {Batches} batches in {DurationMs:F0} ms (pop {PopMs:F0} ms, enqueue {EnqueueMs:F0} ms)")]
    private partial void LogSlowTick(int popped, int batches, double durationMs, double popMs, double enqueueMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scheduler backlog: {Backlog} devices still due, oldest {LagSeconds:F1} s late, after popping {Popped} in {DurationMs:F0} ms")]
    private partial void LogBacklog(long backlog, double lagSeconds, int popped, double durationMs);
}
