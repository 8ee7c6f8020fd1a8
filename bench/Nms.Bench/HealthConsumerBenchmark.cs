using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Devices;
using Nms.Core.Health;
using Npgsql;

namespace Nms.Bench;

/// <summary>
/// Failure consumer throughput: FailureEvents applied straight to HealthMonitor (no queue) by N
/// concurrent consumers, spread over many devices or all on one (row lock contention), plus
/// redeliveries. Needs a PostgreSQL admin connection (NMS_BENCH_PG_ADMIN, default the cluster of
/// `./nms start`); creates and drops its own database. Every event does the full work (lock,
/// idempotence insert, window, update): the threshold is set out of reach.
/// </summary>
public sealed class HealthConsumerBenchmark : IBenchmark
{
    public string Name => "health-consumer";

    public string Description => "failure events/s through HealthMonitor on PostgreSQL: many devices, one hot device, redeliveries [--events N --consumers N --devices N]";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var admin = Environment.GetEnvironmentVariable("NMS_BENCH_PG_ADMIN") ?? "Host=127.0.0.1;Port=55432;Username=nms;Password=nms;Database=postgres";
        var events = Arg(args, "--events", 20_000);
        var consumers = Arg(args, "--consumers", 16);
        var devices = Arg(args, "--devices", 1_000);
        var name = $"nms_bench_health_{Environment.ProcessId}";
        await AdminAsync(admin, $"CREATE DATABASE {name}", cancellationToken);
        try
        {
            var connectionString = new NpgsqlConnectionStringBuilder(admin) { Database = name, MaxPoolSize = consumers + 4 }.ConnectionString;
            await using var sources = NmsDataSources.Create(connectionString, connectionString);
            var dataSource = sources.Api;
            await new MigrationRunner(dataSource, NullLogger<MigrationRunner>.Instance).MigrateAsync(cancellationToken);
            await using (var probe = await dataSource.OpenConnectionAsync(cancellationToken))
            {
                Console.WriteLine($"health consumer: {events} events, {consumers} concurrent consumers, PostgreSQL {probe.PostgreSqlVersion}, {Environment.ProcessorCount} cores");
            }

            foreach (var (label, spread, redeliver) in new[] { ($"{devices} devices", devices, false), ("1 hot device", 1, false), ($"{devices} devices, every event twice", devices, true) })
            {
                await ResetAsync(dataSource, spread, cancellationToken);
                var result = await MeasureAsync(sources, spread, events, consumers, redeliver, cancellationToken);
                Console.WriteLine($"  {label,-34} {result.PerSecond,8:N0} events/s   p50 {result.P50:N2} ms   p99 {result.P99:N2} ms   deactivations {result.Deactivations}");
            }
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await AdminAsync(admin, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)", CancellationToken.None);
        }

        return 0;
    }

    private static async Task<(double PerSecond, double P50, double P99, int Deactivations)> MeasureAsync(
        NmsDataSources sources, int devices, int events, int consumers, bool redeliver, CancellationToken cancellationToken)
    {
        // A huge threshold keeps every device active, so every event does the full work.
        var options = new HealthOptions { WindowSeconds = 300, Threshold = int.MaxValue };
        var monitor = new HealthMonitor(sources, options, new HealthRecoveryOptions(), NoDeactivationHold.Instance, TimeProvider.System, NullLogger<HealthMonitor>.Instance);
        var start = DateTimeOffset.UtcNow.AddMinutes(-1);
        var random = new Random(1);
        var work = Enumerable.Range(0, events)
            .Select(i => new FailureEvent(Guid.NewGuid(), 1 + random.Next(devices), FailureEvent.PollReason, "timeout", start.AddMilliseconds(i)))
            .SelectMany(e => redeliver ? new[] { e, e } : [e])
            .ToArray();
        var latencies = new double[work.Length];
        var next = -1;
        var deactivations = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, consumers).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < work.Length)
            {
                var begin = Stopwatch.GetTimestamp();
                if (await monitor.RecordFailureAsync(work[i], cancellationToken) == FailureOutcome.Deactivated)
                {
                    Interlocked.Increment(ref deactivations);
                }

                latencies[i] = Stopwatch.GetElapsedTime(begin).TotalMilliseconds;
            }
        }, cancellationToken)));
        var elapsed = clock.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        return (work.Length / elapsed, latencies[latencies.Length / 2], latencies[(int)(latencies.Length * 0.99)], deactivations);
    }

    private static async Task ResetAsync(NpgsqlDataSource dataSource, int devices, CancellationToken cancellationToken)
    {
        await using (var truncate = dataSource.CreateCommand("TRUNCATE failure_events, device_health_events, poll_schedule, devices RESTART IDENTITY CASCADE"))
        {
            await truncate.ExecuteNonQueryAsync(cancellationToken);
        }

        var now = DateTimeOffset.UtcNow;
        var provisions = Enumerable.Range(1, devices)
            .Select(g => new DeviceProvision(new System.Net.IPAddress([127, 30, (byte)(g / 256), (byte)(g % 256)]), 161, "snmp", 60))
            .ToList();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var created = await DeviceLifecycle.ProvisionManyAsync(connection, transaction, provisions, now, cancellationToken);
        await DeviceLifecycle.RescheduleAsync(connection, transaction, created.Select(d => (d.DeviceId, now)).ToList(), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "Database names made here.")]
    private static async Task AdminAsync(string admin, string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
