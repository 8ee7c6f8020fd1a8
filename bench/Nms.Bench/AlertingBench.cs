using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Nms.Core.Alerting;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Devices;
using Nms.Core.Queues;
using Npgsql;

namespace Nms.Bench;

/// <summary>
/// One alert evaluation (the timer's whole work: observations over devices and metrics, the state
/// machine, writes and outbox, the relay) for N devices × 5 rules on real PostgreSQL, with 3 hours
/// of metrics at 60 s per series (the v2 hot table). Needs an admin connection (NMS_BENCH_PG_ADMIN; ./nms bench
/// alerting starts a private cluster when it is unset); creates and drops its own database.
/// </summary>
public static class AlertingBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var admin = Environment.GetEnvironmentVariable("NMS_BENCH_PG_ADMIN") ?? "Host=127.0.0.1;Port=55432;Username=nms;Password=nms;Database=postgres";
        var devices = Arg(args, "--devices", 10_000);
        var runs = Arg(args, "--runs", 10);
        var name = $"nms_bench_alerting_{Environment.ProcessId}";
        await AdminAsync(admin, $"CREATE DATABASE {name}");
        try
        {
            var connectionString = new NpgsqlConnectionStringBuilder(admin) { Database = name, MaxPoolSize = 8 }.ConnectionString;
            await using var sources = NmsDataSources.Create(connectionString, connectionString);
            await new MigrationRunner(sources.Api, NullLogger<MigrationRunner>.Instance).MigrateAsync(CancellationToken.None);
            var seeding = Stopwatch.StartNew();
            var rows = await SeedAsync(sources.Api, devices);
            Console.WriteLine($"alerting: {devices:N0} devices x 5 rules, {rows:N0} metric rows (3 h at 60 s: what the v2 hot table keeps), seeded in {seeding.Elapsed.TotalSeconds:N1} s, {Environment.ProcessorCount} cores");

            if (args.Contains("--explain"))
            {
                await ExplainAsync(sources.Api);
            }

            var queue = new CountingQueue();
            var evaluator = new AlertEvaluator(sources, queue, QueueNames.From(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build()),
                new MaintenanceService(sources.Api, TimeProvider.System, NullLogger<MaintenanceService>.Instance), new AlertingOptions(), TimeProvider.System, NullLogger<AlertEvaluator>.Instance);

            var first = await TimeAsync(evaluator);
            Console.WriteLine($"  first evaluation (alerts created)   {first.Elapsed.TotalMilliseconds,8:N0} ms   {first.Result.Observations} observations, {first.Result.Created} new alerts, {first.Result.Notifications} outbox rows, {queue.Count} groups enqueued");
            var steady = new List<double>();
            for (var i = 0; i < runs; i++)
            {
                steady.Add((await TimeAsync(evaluator)).Elapsed.TotalMilliseconds);
            }

            steady.Sort();
            Console.WriteLine($"  steady evaluation (nothing changes) median {steady[steady.Count / 2],6:N0} ms   max {steady[^1]:N0} ms   ({runs} runs)");

            await LifecycleAsync(sources.Api, "SELECT id FROM devices WHERE id % 5 = 0 AND status = 'active'", (c, t, id, now) =>
                DeviceLifecycle.DeactivateForFailuresAsync(c, t, id, "ping", "timeout", now, now.AddHours(1), CancellationToken.None));
            var storm = await TimeAsync(evaluator);
            Console.WriteLine($"  storm: 20% of devices down at once  {storm.Elapsed.TotalMilliseconds,8:N0} ms   {storm.Result.Created} new alerts, {storm.Result.Notifications} outbox rows");
            await LifecycleAsync(sources.Api, "SELECT id FROM devices WHERE status = 'inactive'", (c, t, id, now) =>
                DeviceLifecycle.ReactivateByOperatorAsync(c, t, id, 60, now, CancellationToken.None));
            var recovery = await TimeAsync(evaluator);
            Console.WriteLine($"  recovery: all of them back          {recovery.Elapsed.TotalMilliseconds,8:N0} ms   {recovery.Result.Changed} alerts changed, {recovery.Result.Notifications} outbox rows");
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await AdminAsync(admin, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        }

        return 0;
    }

    private static async Task<(TimeSpan Elapsed, EvaluationResult Result)> TimeAsync(AlertEvaluator evaluator)
    {
        var clock = Stopwatch.StartNew();
        var result = await evaluator.EvaluateAsync(CancellationToken.None);
        return (clock.Elapsed, result);
    }

    /// <summary>Devices (half tagged site=ams1), 1% deactivated, 1% failing; CPU gauges (2% hot) and two octet counters per device; 5 rules, 2 channels.</summary>
    private static async Task<long> SeedAsync(NpgsqlDataSource db, int devices)
    {
        string[] statements =
        [
            "SELECT nms_ensure_range_partition('metric_polls', 'ts', interval '1 day', now() - g * interval '1 day') FROM generate_series(0, 1) AS g",
            "INSERT INTO device_tags (device_id, key, value) SELECT id, 'site', CASE WHEN id % 2 = 0 THEN 'ams1' ELSE 'fra1' END FROM devices",
            """
            INSERT INTO metric_series (device_id, name, labels, kind, counter_bits, first_seen_at, last_seen_at)
            SELECT id, 'cpu_load_percent', '{}', 'gauge', NULL, now(), now() FROM devices
            UNION ALL
            SELECT d.id, 'if_in_octets_total', jsonb_build_object('interface', 'eth' || i, 'if_index', i::text), 'counter', 64, now(), now()
            FROM devices d CROSS JOIN generate_series(1, 2) AS i
            """,
            """
            INSERT INTO metric_polls (device_id, ts, series_ids, series_values)
            SELECT s.device_id, now() - m * interval '1 minute', array_agg(s.id ORDER BY s.id),
                   array_agg(CASE WHEN s.kind = 'gauge' THEN CASE WHEN s.device_id % 50 = 3 THEN 95 ELSE 20 + (s.device_id + m) % 30 END
                                  ELSE (180 - m) * 60 * CASE WHEN s.device_id % 100 = 4 THEN 5e6 ELSE 1e4 END END::float8 ORDER BY s.id)
            FROM metric_series s CROSS JOIN generate_series(0, 179) AS m
            GROUP BY s.device_id, m
            """,
            "ANALYZE",
        ];
        await using (var connection = await db.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            var base40 = IPAddress.Parse("127.40.0.0").GetAddressBytes();
            var provisions = Enumerable.Range(1, devices)
                .Select(i => new DeviceProvision(new IPAddress([base40[0], base40[1], (byte)(i >> 8), (byte)i]), 161, "snmp", 60))
                .ToList();
            await DeviceLifecycle.ProvisionManyAsync(connection, transaction, provisions, DateTimeOffset.UtcNow, CancellationToken.None);
            await transaction.CommitAsync();
        }

        foreach (var sql in statements)
        {
            await ExecuteAsync(db, sql);
        }

        await LifecycleAsync(db, "SELECT id FROM devices WHERE id % 100 = 1", (c, t, id, now) =>
            DeviceLifecycle.DeactivateForFailuresAsync(c, t, id, "poll", "snmp timeout", now, now.AddHours(1), CancellationToken.None));
        await LifecycleAsync(db, "SELECT id FROM devices WHERE id % 100 = 2", async (c, t, id, now) =>
        {
            await DeviceLifecycle.RecordFailureCountAsync(c, t, id, 3, now, "ping", "no reply", newest: true, now, CancellationToken.None);
            return true;
        });

        var channel = await new ChannelService(db, new Core.Credentials.SecretSealer(new CryptoOptions { ActiveKeyId = "b", Keys = { ["b"] = Convert.ToBase64String(new byte[32]) } }),
            TimeProvider.System, NullLogger<ChannelService>.Instance).CreateAsync(new ChannelRequest(Name: "ops", Kind: "webhook", Url: "http://127.0.0.1:9/", SigningSecret: "bench-signing-secret"), CancellationToken.None);
        var rules = new AlertRuleService(db, TimeProvider.System, NullLogger<AlertRuleService>.Instance);
        AlertRuleRequest[] definitions =
        [
            new(Name: "down", Kind: "device_down", Severity: "critical", ChannelIds: [channel.Id]),
            new(Name: "ams1 failing", Kind: "device_down", Severity: "warning", ScopeTags: ["site=ams1"], FailureCount: 2, ChannelIds: [channel.Id]),
            new(Name: "cpu hot", Kind: "threshold", Severity: "warning", Metric: "cpu_load_percent", Op: ">", Threshold: 90, RecoveryOp: "<", RecoveryThreshold: 80, WindowSeconds: 120, ChannelIds: [channel.Id]),
            new(Name: "cpu busy 5m", Kind: "threshold", Severity: "info", Metric: "cpu_load_percent", Fn: "avg", WindowSeconds: 300, Op: ">", Threshold: 85, ChannelIds: [channel.Id]),
            new(Name: "link busy", Kind: "threshold", Severity: "warning", Metric: "if_in_octets_total", Fn: "rate", WindowSeconds: 300, Op: ">", Threshold: 1e6, ChannelIds: [channel.Id]),
        ];
        foreach (var rule in definitions)
        {
            await rules.CreateAsync(rule, CancellationToken.None);
        }

        await using var count = db.CreateCommand("SELECT count(*) FROM metric_samples");
        return (long)(await count.ExecuteScalarAsync())!;
    }

    /// <summary>--explain: the plan and time of each observation statement, to see where an evaluation spends it.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "The app's own statements.")]
    private static async Task ExplainAsync(NpgsqlDataSource db)
    {
        // Under the evaluation's own settings (work_mem, no JIT), in a transaction as the evaluator runs them.
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var settings = new NpgsqlCommand(AlertingSql.EvaluationWorkMem, connection, transaction))
        {
            await settings.ExecuteNonQueryAsync();
        }

        foreach (var (label, sql) in new[] { ("device down", AlertingSql.DeviceDownObservations), ("interface down", AlertMetricsSql.InterfaceDownObservations), ("threshold", AlertMetricsSql.ThresholdObservations) })
        {
            await using var command = new NpgsqlCommand("EXPLAIN (ANALYZE, COSTS OFF) " + sql, connection, transaction);
            command.Parameters.Add(new NpgsqlParameter { Value = DateTimeOffset.UtcNow });
            await using var reader = await command.ExecuteReaderAsync();
            Console.WriteLine($"--- {label}");
            while (await reader.ReadAsync())
            {
                Console.WriteLine(reader.GetString(0));
            }
        }
    }

    /// <summary>Device changes the way the app makes them: through the lifecycle, one transaction for the lot.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "Statements written here.")]
    private static async Task LifecycleAsync(NpgsqlDataSource db, string selectIds, Func<NpgsqlConnection, NpgsqlTransaction, long, DateTimeOffset, Task<bool>> change)
    {
        await using var connection = await db.OpenConnectionAsync();
        var ids = new List<long>();
        await using (var select = new NpgsqlCommand(selectIds, connection))
        await using (var reader = await select.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                ids.Add(reader.GetInt64(0));
            }
        }

        await using var transaction = await connection.BeginTransactionAsync();
        foreach (var id in ids)
        {
            await change(connection, transaction, id, DateTimeOffset.UtcNow);
        }

        await transaction.CommitAsync();
    }

    private sealed class CountingQueue : IQueueSender
    {
        public int Count;

        public Task SendAsync<T>(string queueName, T message, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Count);
            return Task.CompletedTask;
        }

        public Task SendLaterAsync<T>(string queueName, T message, TimeSpan visibilityDelay, CancellationToken cancellationToken) =>
            SendAsync(queueName, message, cancellationToken);

        public Task SendJsonAsync(string queueName, BinaryData json, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Count);
            return Task.CompletedTask;
        }
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "Statements written here.")]
    private static async Task ExecuteAsync(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        command.CommandTimeout = 600;
        await command.ExecuteNonQueryAsync();
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "Database names made here.")]
    private static async Task AdminAsync(string admin, string sql)
    {
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
