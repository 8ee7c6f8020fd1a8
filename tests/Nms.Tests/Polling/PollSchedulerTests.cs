using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Nms.Core.Configuration;
using Nms.Core.Devices;
using Nms.Core.Diagnostics;
using Nms.Core.Polling;

namespace Nms.Tests.Polling;

public sealed class PollSchedulerTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly QueueNames Queues = new("discovery", "poll", "metrics", "failures");

    private readonly PollingDatabase db = new();
    private readonly RecordingQueueSender sent = new();
    private readonly FakeTimeProvider time = new(T0);
    private readonly NmsInstruments instruments = new();

    public Task InitializeAsync() => db.InitializeAsync();

    public async Task DisposeAsync()
    {
        instruments.Dispose();
        await db.DisposeAsync();
    }

    private PollScheduler Scheduler(PollingOptions? options = null) =>
        new(db.Data.Api, sent, Queues, options ?? new PollingOptions(), instruments, time, NullLogger<PollScheduler>.Instance);

    private Task<DateTimeOffset> NextDueAsync(long id) =>
        db.ScalarAsync<DateTime>("SELECT next_due_at FROM poll_schedule WHERE device_id = $1", id).ContinueWith(t => new DateTimeOffset(t.Result, TimeSpan.Zero));

    [Fact]
    public async Task Pop_moves_the_deadline_forward_by_whole_intervals_keeping_the_cadence()
    {
        var due = T0.AddSeconds(-7);
        var id = await db.InsertDeviceAsync("127.0.0.1", 161, "snmp", due, intervalSeconds: 60);

        var popped = await Scheduler().PopAsync(T0, 100, CancellationToken.None);

        Assert.Equal(due, Assert.Single(popped).DueAt);
        Assert.Equal(due.AddSeconds(60), await NextDueAsync(id));
    }

    [Fact]
    public async Task A_device_late_by_several_intervals_is_popped_once_and_its_next_deadline_is_the_first_after_now()
    {
        var due = T0.AddSeconds(-185); // 3 intervals and 5 s late
        var id = await db.InsertDeviceAsync("127.0.0.1", 161, "snmp", due, intervalSeconds: 60);

        var first = await Scheduler().PopAsync(T0, 100, CancellationToken.None);
        var second = await Scheduler().PopAsync(T0, 100, CancellationToken.None);

        Assert.Single(first);
        Assert.Empty(second);
        Assert.Equal(due.AddSeconds(240), await NextDueAsync(id)); // T0 + 55 s: after now, on the old cadence
    }

    [Fact]
    public async Task A_device_due_exactly_a_whole_number_of_intervals_ago_moves_strictly_after_now()
    {
        var id = await db.InsertDeviceAsync("127.0.0.1", 161, "snmp", T0.AddSeconds(-120), intervalSeconds: 60);

        await Scheduler().PopAsync(T0, 100, CancellationToken.None);

        Assert.Equal(T0.AddSeconds(60), await NextDueAsync(id));
    }

    [Fact]
    public async Task Devices_not_yet_due_or_inactive_are_not_popped()
    {
        var later = await db.InsertDeviceAsync("127.0.0.1", 161, "snmp", T0.AddSeconds(1));
        await db.InsertDeviceAsync("127.0.0.2", 161, "snmp", T0.AddSeconds(-1), status: "inactive");
        var due = await db.InsertDeviceAsync("127.0.0.3", 161, "snmp", T0);

        var popped = await Scheduler().PopAsync(T0, 100, CancellationToken.None);

        Assert.Equal([due], popped.Select(p => p.DeviceId));
        Assert.Equal(T0.AddSeconds(1), await NextDueAsync(later));
    }

    [Fact]
    public async Task Cadence_holds_across_ticks_as_the_fake_clock_advances()
    {
        var id = await db.InsertDeviceAsync("127.0.0.1", 161, "snmp", T0, intervalSeconds: 10);
        var scheduler = Scheduler();
        var popTimes = new List<DateTimeOffset>();
        for (var tick = 0; tick < 12; tick++)
        {
            // Ticks every 3 s with jitter: the device must be popped at 0, 10, 20, 30 s, never drifting.
            var result = await scheduler.TickAsync(CancellationToken.None);
            if (result.Popped == 1)
            {
                popTimes.Add(time.GetUtcNow());
            }

            time.Advance(TimeSpan.FromMilliseconds(3_000 + (tick % 2 * 300)));
        }

        var batches = sent.Messages<PollBatchMessage>("poll");
        Assert.Equal([T0, T0.AddSeconds(10), T0.AddSeconds(20), T0.AddSeconds(30)], batches.Select(b => Assert.Single(b.Devices).DueAt));
        Assert.All(batches.Zip(popTimes), pair => Assert.InRange((pair.Second - pair.First.Devices[0].DueAt).TotalSeconds, 0, 3.3));
        Assert.Equal(T0.AddSeconds(40), await NextDueAsync(id));
    }

    [Fact]
    public async Task Two_schedulers_popping_at_once_never_pop_a_device_twice()
    {
        await db.InsertManyDevicesAsync(3_000, "snmp", T0.AddSeconds(-30));
        var schedulers = Enumerable.Range(0, 4).Select(_ => Scheduler()).ToList();

        var pops = await Task.WhenAll(schedulers.Select(s => Task.Run(async () =>
        {
            var mine = new List<long>();
            IReadOnlyList<PoppedDevice> chunk;
            do
            {
                chunk = await s.PopAsync(T0, 100, CancellationToken.None);
                mine.AddRange(chunk.Select(d => d.DeviceId));
            }
            while (chunk.Count > 0);
            return mine;
        })));

        var all = pops.SelectMany(p => p).ToList();
        Assert.Equal(3_000, all.Count);
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.True(pops.Count(p => p.Count > 0) > 1, "the schedulers did not actually overlap");
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM poll_schedule WHERE next_due_at <= $1", T0.UtcDateTime));
    }

    [Fact]
    public async Task A_tick_enqueues_batches_of_the_configured_size_carrying_ids_and_due_times_only()
    {
        await db.InsertManyDevicesAsync(10, "snmp", T0);
        var credentialFree = await db.InsertDeviceAsync("127.0.0.9", 2222, "ssh", T0, hostKey: "ssh-ed25519 AAAAsecretish");

        var result = await Scheduler(new PollingOptions { BatchSize = 4 }).TickAsync(CancellationToken.None);

        Assert.Equal(11, result.Popped);
        var batches = sent.Messages<PollBatchMessage>("poll");
        Assert.Equal([4, 4, 3], batches.Select(b => b.Devices.Count).Order().Reverse());
        var ssh = batches.SelectMany(b => b.Devices).Single(d => d.DeviceId == credentialFree);
        Assert.Equal(T0, ssh.DueAt);
        var json = string.Join('\n', sent.Sent.Select(s => System.Text.Encoding.UTF8.GetString(s.Json)));
        Assert.DoesNotContain("127.0.0.9", json, StringComparison.Ordinal);
        Assert.DoesNotContain("AAAA", json, StringComparison.Ordinal);
        Assert.DoesNotContain("credential", json, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Devices_whose_batch_cannot_be_enqueued_get_their_deadline_back_and_are_popped_next_tick()
    {
        var due = T0.AddSeconds(-3);
        var id = await db.InsertDeviceAsync("127.0.0.1", 161, "snmp", due);
        var failing = new PollScheduler(db.Data.Api, new FailingQueueSender(), Queues, new PollingOptions(), instruments, time, NullLogger<PollScheduler>.Instance);

        await Assert.ThrowsAsync<InvalidOperationException>(() => failing.TickAsync(CancellationToken.None));

        Assert.Equal(due, await NextDueAsync(id));
        var retried = await Scheduler().TickAsync(CancellationToken.None);
        Assert.Equal(1, retried.Popped);
        Assert.Equal(due, Assert.Single(Assert.Single(sent.Messages<PollBatchMessage>("poll")).Devices).DueAt);
    }

    private sealed class FailingQueueSender : Nms.Core.Queues.IQueueSender
    {
        public Task SendAsync<T>(string queueName, T message, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("queue service unavailable");

        public Task SendLaterAsync<T>(string queueName, T message, TimeSpan visibilityDelay, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("queue service unavailable");

        public Task SendJsonAsync(string queueName, BinaryData json, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("queue service unavailable");
    }

    [Fact]
    public async Task A_tick_that_runs_out_of_budget_reports_the_backlog_and_the_lag_of_the_oldest_due_device()
    {
        await db.InsertManyDevicesAsync(50, "snmp", T0.AddSeconds(-20));
        var scheduler = Scheduler(new PollingOptions { PopChunkSize = 10, TickBudgetMilliseconds = 0, BatchSize = 64 });

        var result = await scheduler.TickAsync(CancellationToken.None);

        Assert.Equal(10, result.Popped);
        Assert.Equal(40, result.Backlog);
        Assert.Equal(TimeSpan.FromSeconds(20), result.OldestDueLag);
        Assert.Equal(40, instruments.Backlog);
        Assert.Equal(20, instruments.OldestDueLagSeconds, 3);
    }

    [Fact]
    public async Task Within_budget_a_tick_keeps_popping_chunks_until_nothing_is_due()
    {
        await db.InsertManyDevicesAsync(95, "snmp", T0.AddSeconds(-20));

        var result = await Scheduler(new PollingOptions { PopChunkSize = 10, TickBudgetMilliseconds = 60_000, BatchSize = 64 }).TickAsync(CancellationToken.None);

        Assert.Equal(95, result.Popped);
        Assert.Equal(0, result.Backlog);
        Assert.Equal(95, sent.Messages<PollBatchMessage>("poll").Sum(b => b.Devices.Count));
    }

    [Fact]
    public async Task A_backlog_goes_out_in_fuller_messages_and_the_steady_rest_in_the_configured_size()
    {
        await db.InsertManyDevicesAsync(25, "snmp", T0.AddSeconds(-20));

        var result = await Scheduler(new PollingOptions { PopChunkSize = 10, TickBudgetMilliseconds = 60_000, BatchSize = 4, BacklogBatchSize = 10 }).TickAsync(CancellationToken.None);

        Assert.Equal(25, result.Popped);
        // The first chunk came back full (a backlog): one message of 10; the next, doubled chunk found 15: batches of 4.
        Assert.Equal([10, 4, 4, 4, 3], sent.Messages<PollBatchMessage>("poll").Select(b => b.Devices.Count).OrderDescending());
        Assert.Equal(25, sent.Messages<PollBatchMessage>("poll").SelectMany(b => b.Devices).Select(d => d.DeviceId).Distinct().Count());
    }

    [Fact]
    public async Task When_a_chunk_cannot_be_enqueued_the_chunk_popped_meanwhile_gets_its_deadlines_back_too()
    {
        var due = T0.AddSeconds(-3);
        await db.InsertManyDevicesAsync(20, "snmp", due);
        var failing = new PollScheduler(db.Data.Api, new FailingQueueSender(), Queues, new PollingOptions { PopChunkSize = 10, TickBudgetMilliseconds = 60_000 }, instruments, time, NullLogger<PollScheduler>.Instance);

        await Assert.ThrowsAsync<InvalidOperationException>(() => failing.TickAsync(CancellationToken.None));

        Assert.Equal(20L, await db.ScalarAsync<long>("SELECT count(*) FROM poll_schedule WHERE next_due_at = $1", due.UtcDateTime));
    }
}
