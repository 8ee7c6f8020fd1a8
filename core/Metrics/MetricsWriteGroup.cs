namespace Nms.Core.Metrics;

/// <summary>
/// Group commit for the metrics writer. The queue host delivers many metrics messages at once (host.json's
/// batchSize); written one transaction each, they pay a round trip for the claim, one for the COPY and a WAL
/// flush for the commit apiece, and the COPY itself is the small part. Here the first caller leads: it takes
/// every batch waiting (up to <see cref="MaxSamples"/>), writes them in one transaction, gives each caller its
/// outcome and hands the lead to the next caller waiting. A caller that finds nothing being written is written at once;
/// one that finds a group in flight starts a second group only with another batch waiting beside it, else it waits for
/// the write in flight to end (never longer) and goes with whatever arrived meanwhile.
/// If the group's transaction fails, each of its batches is written again alone, so one bad batch fails
/// only its own message.
/// </summary>
internal sealed class MetricsWriteGroup(Func<IReadOnlyList<PreparedBatch>, CancellationToken, Task<HashSet<Guid>>> writeTogether)
{
    /// <summary>About 2 MB of COPY data: larger groups add latency and gain nothing measurable.</summary>
    public const int MaxSamples = 100_000;

    /// <summary>
    /// Groups written at the same time, each on its own connection. One group's round trips leave the database
    /// and this process idle half the time; a second group in flight fills that (measured: ingest bench).
    /// </summary>
    public const int MaxInFlight = 2;

    /// <summary>
    /// Batches that must wait before a second group starts beside the one in flight. A group's fixed cost (three round
    /// trips, a COPY set-up, a commit) is about that of 1,000 samples in the database and as much again here, so a lone
    /// batch waits for the write in flight and goes with whatever arrives meanwhile. With four callers, groups of one
    /// were 388 of 629 before (ingest bench).
    /// </summary>
    public const int BatchesForSecondGroup = 2;

    private readonly Lock gate = new();
    private readonly List<Waiter> waiting = [];
    private int freeSlots = MaxInFlight;

    /// <summary>Callers waiting for a leader to take their batch (tests wait on it).</summary>
    internal int Waiting
    {
        get
        {
            lock (gate)
            {
                return waiting.Count;
            }
        }
    }

    /// <summary>True when this batch was written, false when its id had been written before.</summary>
    public async Task<bool> WriteAsync(PreparedBatch batch, CancellationToken cancellationToken)
    {
        var me = new Waiter(batch);
        lock (gate)
        {
            waiting.Add(me);
            if (freeSlots == MaxInFlight || (freeSlots > 0 && WaitingWithoutSlot() >= BatchesForSecondGroup))
            {
                freeSlots--;
                me.HasSlot = true;
            }
        }

        if (!HasSlot(me))
        {
            await Task.WhenAny(me.Done.Task, me.Lead.Task);
        }

        // A slot handed over while another leader took this batch still has to be used or passed on.
        if (HasSlot(me))
        {
            try
            {
                var group = TakeGroup();
                if (group.Count > 0)
                {
                    await WriteGroupAsync(group, cancellationToken);
                }
            }
            finally
            {
                HandOver();
            }
        }

        return await me.Done.Task;
    }

    private int WaitingWithoutSlot()
    {
        var count = 0;
        foreach (var waiter in waiting)
        {
            count += waiter.HasSlot ? 0 : 1;
        }

        return count;
    }

    private bool HasSlot(Waiter waiter)
    {
        lock (gate)
        {
            return waiter.HasSlot;
        }
    }

    /// <summary>Whatever waits, oldest first, as many as fit (the first always: one batch is never too big).</summary>
    private List<Waiter> TakeGroup()
    {
        lock (gate)
        {
            var count = 0;
            var samples = 0;
            while (count < waiting.Count && (count == 0 || samples + waiting[count].Batch.Samples <= MaxSamples))
            {
                samples += waiting[count].Batch.Samples;
                count++;
            }

            var group = waiting.GetRange(0, count);
            waiting.RemoveRange(0, count);
            return group;
        }
    }

    /// <summary>The slot goes to the first caller waiting without one, or back to the pool.</summary>
    private void HandOver()
    {
        Waiter? next = null;
        lock (gate)
        {
            next = waiting.Find(w => !w.HasSlot);
            if (next is null)
            {
                freeSlots++;
            }
            else
            {
                next.HasSlot = true;
            }
        }

        next?.Lead.TrySetResult();
    }

    private async Task WriteGroupAsync(List<Waiter> group, CancellationToken cancellationToken)
    {
        try
        {
            var claimed = await writeTogether(group.ConvertAll(w => w.Batch), cancellationToken);
            foreach (var waiter in group)
            {
                // A batch id twice in one group (a redelivery racing the first delivery) is written once.
                waiter.Done.TrySetResult(claimed.Remove(waiter.Batch.BatchId));
            }
        }
        catch (Exception ex) when (group.Count > 1 && ex is not OperationCanceledException)
        {
            foreach (var waiter in group)
            {
                await WriteAloneAsync(waiter, cancellationToken);
            }
        }
        catch (Exception ex)
        {
            group.ForEach(w => w.Done.TrySetException(ex));
        }
    }

    private async Task WriteAloneAsync(Waiter waiter, CancellationToken cancellationToken)
    {
        try
        {
            var claimed = await writeTogether([waiter.Batch], cancellationToken);
            waiter.Done.TrySetResult(claimed.Count > 0);
        }
        catch (Exception ex)
        {
            waiter.Done.TrySetException(ex);
        }
    }

    private sealed class Waiter(PreparedBatch batch)
    {
        public PreparedBatch Batch { get; } = batch;

        public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Lead { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Whether this caller holds one of the in-flight slots (read and written under the gate).</summary>
        public bool HasSlot { get; set; }
    }
}
