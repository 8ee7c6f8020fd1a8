using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Azure.Storage.Queues;
using Microsoft.Extensions.Logging.Abstractions;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Devices;
using Nms.Core.Diagnostics;
using Nms.Core.Polling;
using Nms.Core.Queues;
using Npgsql;

namespace Nms.Bench;

/// <summary>
/// <c>scheduler</c>: N devices due at once (after an outage, or a first start). Part 1 pops them all, as the
/// scheduler's ticks do, without enqueueing; then their deadlines are put back and part 2 runs the real scheduler
/// ticks (pop and enqueue onto an Azurite queue) until all are enqueued. Prints both parts and the poll messages sent.
/// Options: --devices 100000, --chunk N (PopChunkSize, default the app's), --batch-size N (default the app's).
/// </summary>
internal static class SchedulerBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = new BenchArgs(args);
        var devices = options.Int("devices", 100_000);
        var defaults = new PollingOptions();
        var polling = new PollingOptions
        {
            PopChunkSize = options.Int("chunk", defaults.PopChunkSize),
            BatchSize = options.Int("batch-size", defaults.BatchSize),
            TickBudgetMilliseconds = 60_000,
        };

        await using var db = await BenchDatabase.CreateAsync();
        await using var dataSource = NpgsqlDataSource.Create(db.ConnectionString);
        var now = DateTimeOffset.UtcNow;
        var due = now - TimeSpan.FromMinutes(5);
        await SeedAsync(dataSource, devices, due, now);
        var queue = "bench-poll-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        var service = new QueueServiceClient(BenchArgs.Azurite, StorageQueues.ClientOptions());
        var names = new QueueNames("bench-discovery", queue, "bench-metrics", "bench-failures");
        using var instruments = new NmsInstruments();
        var scheduler = new PollScheduler(dataSource, new StorageQueues(service), names, polling, instruments, new FixedTime(now), NullLogger<PollScheduler>.Instance);
        await service.GetQueueClient(queue).CreateIfNotExistsAsync();
        var postgres = new PipelineCpu(await PipelineCpu.PostmasterPidAsync(db.ConnectionString), null);
        Console.WriteLine($"scheduler: {devices:N0} devices due at once, pop chunk {polling.PopChunkSize:N0}, poll batch {polling.BatchSize}");

        // Part 1: the pops alone.
        var cpu = postgres.Take();
        var watch = Stopwatch.StartNew();
        var popped = 0;
        while (true)
        {
            var chunk = await scheduler.PopAsync(now, polling.PopChunkSize, CancellationToken.None);
            popped += chunk.Count;
            if (chunk.Count < polling.PopChunkSize)
            {
                break;
            }
        }

        var popWall = watch.Elapsed;
        var popCpu = postgres.Take() - cpu;
        await ResetAsync(dataSource, due);

        // Part 2: the scheduler's ticks, pop and enqueue.
        cpu = postgres.Take();
        watch.Restart();
        int enqueued = 0, batches = 0, ticks = 0;
        while (enqueued < devices && ticks < 100)
        {
            var tick = await scheduler.TickAsync(CancellationToken.None);
            enqueued += tick.Popped;
            batches += tick.Batches;
            ticks++;
            if (tick.Popped == 0)
            {
                break;
            }
        }

        var tickWall = watch.Elapsed;
        var tickCpu = postgres.Take() - cpu;
        var messages = (await service.GetQueueClient(queue).GetPropertiesAsync()).Value.ApproximateMessagesCount;
        Console.WriteLine($"pop only:          {popped:N0} devices in {popWall.TotalSeconds:F2} s ({popWall.TotalMilliseconds * 1000 / Math.Max(1, popped):F1} µs/device); PostgreSQL CPU {popCpu.Postgres.Cpu.TotalSeconds:F2} s, app CPU {popCpu.App.Cpu.TotalSeconds:F2} s");
        Console.WriteLine($"pop and enqueue:   {enqueued:N0} devices in {tickWall.TotalSeconds:F2} s over {ticks} tick(s), {batches:N0} poll messages ({messages:N0} on the queue); PostgreSQL CPU {tickCpu.Postgres.Cpu.TotalSeconds:F2} s, app CPU {tickCpu.App.Cpu.TotalSeconds:F2} s");
        Console.WriteLine($"  of which enqueue (pop and enqueue - pop only): {(tickWall - popWall).TotalSeconds:F2} s");
        Console.WriteLine(tickWall <= TimeSpan.FromSeconds(5) ? "goal (≤ 5 s for pop and enqueue): met" : "goal (≤ 5 s for pop and enqueue): NOT met");
        await service.GetQueueClient(queue).DeleteIfExistsAsync();
        return 0;
    }

    private static async Task SeedAsync(NpgsqlDataSource dataSource, int devices, DateTimeOffset due, DateTimeOffset now)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        const int Step = 20_000;
        for (var from = 1; from <= devices; from += Step)
        {
            await using var transaction = await connection.BeginTransactionAsync();
            var provisions = Enumerable.Range(from, Math.Min(Step, devices - from + 1))
                .Select(g => new DeviceProvision(new IPAddress([10, (byte)(g >> 16), (byte)(g >> 8), (byte)g]), 161, "snmp", 60, null))
                .ToList();
            var created = await DeviceLifecycle.ProvisionManyAsync(connection, transaction, provisions, now, CancellationToken.None);
            await DeviceLifecycle.RescheduleAsync(connection, transaction, created.Select(d => (d.DeviceId, due)).ToList(), CancellationToken.None);
            await transaction.CommitAsync();
        }

        await using (var schedule = new NpgsqlCommand("VACUUM ANALYZE poll_schedule", connection))
        {
            await schedule.ExecuteNonQueryAsync();
        }

        await using (var devicesTable = new NpgsqlCommand("VACUUM ANALYZE devices", connection))
        {
            await devicesTable.ExecuteNonQueryAsync();
        }
    }

    private static async Task ResetAsync(NpgsqlDataSource dataSource, DateTimeOffset due)
    {
        await using var command = dataSource.CreateCommand("UPDATE poll_schedule SET next_due_at = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = due });
        await command.ExecuteNonQueryAsync();
        await using var vacuum = dataSource.CreateCommand("VACUUM ANALYZE poll_schedule");
        await vacuum.ExecuteNonQueryAsync();
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
