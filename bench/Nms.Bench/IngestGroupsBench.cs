using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Metrics;
using Nms.Core.Polling;
using Npgsql;

namespace Nms.Bench;

/// <summary>
/// <c>ingest-groups</c>: what one write group costs apart from its rows. The ingest bench's messages, encoded once, are
/// written on one caller in groups of <c>--groups</c> messages (default 1,2,4,8), each group as the writer writes it
/// (COPY, then the claim and COMMIT in one round trip), with the connection returned to the pool after each group and
/// taken again; per variant and group size it prints wall time and the CPU of this process and of PostgreSQL.
/// Variants (<c>--variants</c>): <c>reset</c> (the pool resets returned connections, claim unprepared), <c>reset-prepared</c>,
/// <c>no-reset</c>, <c>no-reset-prepared</c> (the writer since this bench was added), <c>no-claim</c> (COPY and COMMIT only).
/// </summary>
internal static class IngestGroupsBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = new BenchArgs(args);
        var rows = options.Int("rows", 1_000_000);
        var groupSizes = options.Get("groups", "1,2,4,8").Split(',').Select(g => int.Parse(g, CultureInfo.InvariantCulture)).ToArray();
        var variants = options.Get("variants", "reset,reset-prepared,no-reset,no-reset-prepared,no-claim").Split(',');
        var rounds = options.Int("rounds", 3);
        await using var db = await BenchDatabase.CreateAsync();
        await using var dataSource = NmsDataSources.Create(db.ConnectionString, db.ConnectionString);
        var messages = await EncodedMessagesAsync(dataSource, rows);
        Console.WriteLine($"ingest-groups: {rows:N0} samples in {messages.Count:N0} messages, groups of {string.Join(", ", groupSizes)}, {rounds} rounds");
        await using var withReset = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(db.ConnectionString) { NoResetOnClose = false }.ConnectionString);
        await using var withoutReset = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(db.ConnectionString) { NoResetOnClose = true }.ConnectionString);
        var processes = new PipelineCpu(await PipelineCpu.PostmasterPidAsync(db.ConnectionString), azuritePid: null);
        Console.WriteLine("| variant | messages per group | groups | wall | CPU: client | PostgreSQL | PostgreSQL per group |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
        for (var round = 0; round < rounds; round++)
        {
            foreach (var size in groupSizes)
            {
                foreach (var variant in variants)
                {
                    await using (var truncate = dataSource.Api.CreateCommand("TRUNCATE metric_polls, metric_batches; CHECKPOINT"))
                    {
                        await truncate.ExecuteNonQueryAsync();
                    }

                    var pool = variant.StartsWith("reset", StringComparison.Ordinal) ? withReset : withoutReset;
                    var before = processes.Take();
                    var watch = Stopwatch.StartNew();
                    var groups = await WriteInGroupsAsync(pool, messages, size, claim: variant != "no-claim", prepared: variant.EndsWith("prepared", StringComparison.Ordinal));
                    watch.Stop();
                    var used = processes.Take() - before;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {variant} | {size} | {groups} | {watch.Elapsed.TotalSeconds:F2} s | {used.App.Cpu.TotalSeconds:F2} s | {used.Postgres.Cpu.TotalSeconds:F2} s | {used.Postgres.Cpu.TotalMilliseconds / groups:F3} ms |"));
                }
            }
        }

        return 0;
    }

    private static async Task<List<PreparedBatch>> EncodedMessagesAsync(NmsDataSources dataSource, int rows)
    {
        var polls = new MetricsBatchMessage(Guid.Empty, IngestBench.Samples(rows, DateTimeOffset.UtcNow)).AllPolls();
        var partitions = new MetricsPartitions(dataSource.Metrics, new MetricsOptions(), TimeProvider.System, NullLogger<MetricsPartitions>.Instance);
        await partitions.MaintainAsync(CancellationToken.None);
        var catalog = new MetricSeriesCatalog(dataSource.Metrics);
        var messages = new List<PreparedBatch>();
        foreach (var part in QueueMessageSplitter.Split(polls.Select(GroupedPoll.From), nameof(MetricsBatchMessage.GroupedPolls), QueueMessageSplitter.MaxJsonBytes))
        {
            var expanded = new MetricsBatchMessage(part.BatchId, null, GroupedPolls: part.Items).AllPolls();
            var (copyRows, samples) = MetricPollsCopyFormat.Encode(expanded, await catalog.IdsAsync(expanded, CancellationToken.None));
            messages.Add(new PreparedBatch(part.BatchId, copyRows, samples));
        }

        return messages;
    }

    private static async Task<int> WriteInGroupsAsync(NpgsqlDataSource pool, List<PreparedBatch> messages, int size, bool claim, bool prepared)
    {
        var groups = 0;
        foreach (var group in messages.Chunk(size))
        {
            groups++;
            await using var connection = await pool.OpenConnectionAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await MetricsWriter.CopyAsync(connection, group, CancellationToken.None);
            await using var commit = new NpgsqlBatch(connection, transaction);
            if (claim)
            {
                commit.BatchCommands.Add(new NpgsqlBatchCommand(MetricsSql.ClaimNewBatches)
                {
                    Parameters =
                    {
                        new NpgsqlParameter { Value = group.Select(_ => Guid.NewGuid()).ToArray() },
                        new NpgsqlParameter { Value = group.Select(m => m.Samples).ToArray() },
                        new NpgsqlParameter { Value = DateTime.UtcNow },
                    },
                });
            }

            commit.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
            if (prepared)
            {
                await commit.PrepareAsync();
            }

            await commit.ExecuteNonQueryAsync();
        }

        return groups;
    }
}
