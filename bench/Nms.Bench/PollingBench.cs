using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Nms.Core.Configuration;
using Nms.Core.Credentials;
using Nms.Core.Devices;
using Nms.Core.Diagnostics;
using Nms.Core.Entities;
using Nms.Core.Polling;
using Nms.Functions.LocalHost;
using Nms.Testing;
using Npgsql;

namespace Nms.Bench;

/// <summary>
/// <c>polling</c>: the whole flow 2 on the local host (scheduler timer, poll queue, fping, the snmp plugin,
/// metrics queue, writer) against one snmpd answering on every loopback address, for N devices at a fixed
/// interval. Reports sustained polls/s, the lag from due time to poll start (p50/p99), metrics rows/s,
/// CPU and peak memory.
/// Options: --devices 1000, --interval 60 (s), --duration 180 (s, measured after a warm-up of one interval),
/// --schedule "*/1 * * * * *", --plugins-dir (default $NMS_PLUGINS_DIR or .nms/plugins), --plugin snmp,
/// --jit-events (also list the dynamic methods compiled in the window).
/// </summary>
internal static class PollingBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = new BenchArgs(args);
        var devices = options.Int("devices", 1_000);
        var interval = options.Int("interval", 60);
        var duration = options.Int("duration", 180);
        var warmup = options.Int("warmup", interval);
        var schedule = options.Get("schedule", "*/1 * * * * *");
        var plugin = options.Get("plugin", "snmp");
        var batchSize = options.Int("batch-size", 64);
        var pluginsDir = Path.GetFullPath(options.Get("plugins-dir", Environment.GetEnvironmentVariable("NMS_PLUGINS_DIR") ?? ".nms/plugins"));
        if (!File.Exists(Path.Combine(pluginsDir, plugin)))
        {
            Console.Error.WriteLine($"plugin '{plugin}' not found in {pluginsDir}: publish it (plugins/publish.sh DIR) and pass --plugins-dir DIR");
            return 1;
        }

        await using var db = await BenchDatabase.CreateAsync();
        using var snmpd = Snmpd.Start();
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        await SeedAsync(db, devices, interval, plugin, snmpd.Port, key);
        Console.WriteLine($"polling: {devices:N0} devices at {interval} s on 127.20.0.0+ (snmpd udp/{snmpd.Port}), scheduler '{schedule}', warm-up {warmup} s, measured {duration} s");

        using var recorder = new Recorder();
        // Storage client retries and failures, so a stall in the queue service shows up as such.
        using var azureLog = Azure.Core.Diagnostics.AzureEventSourceListener.CreateConsoleLogger(System.Diagnostics.Tracing.EventLevel.Warning);
        var prefix = "bench" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        var host = new LocalHostOptions { Urls = $"http://127.0.0.1:{FreePort()}", LocalSettingsPath = "/nonexistent/local.settings.json" };
        foreach (var (name, value) in new Dictionary<string, string>
                 {
                     ["AzureWebJobsStorage"] = BenchArgs.Azurite,
                     [QueueNames.DiscoverySetting] = prefix + "-discovery",
                     [QueueNames.PollSetting] = prefix + "-poll",
                     [QueueNames.MetricsSetting] = prefix + "-metrics",
                     [QueueNames.FailuresSetting] = prefix + "-failures",
                     [QueueNames.NotificationsSetting] = prefix + "-notifications",
                     ["NmsAlertingSchedule"] = "0 0 * * * *",
                     ["NmsSchedulerSchedule"] = schedule,
                     ["NmsMaintenanceSchedule"] = "0 0 * * * *",
                     ["NmsRecoverySchedule"] = "0 0 * * * *",
                     ["NmsCompactionSchedule"] = "0 */5 * * * *",
                     ["Nms:Database:ApiConnectionString"] = db.ConnectionString + ";Maximum Pool Size=20;Application Name=nms-api",
                     ["Nms:Database:MetricsConnectionString"] = db.ConnectionString + ";Maximum Pool Size=8;Application Name=nms-metrics",
                     ["Nms:Auth:BootstrapAdminKey"] = "nms_bench_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
                     ["Nms:Crypto:ActiveKeyId"] = "bench",
                     ["Nms:Crypto:Keys:bench"] = key,
                     ["Nms:Plugins:Directory"] = pluginsDir,
                     ["Nms:Polling:BatchSize"] = batchSize.ToString(CultureInfo.InvariantCulture),
                     ["Nms:Reachability:FpingPath"] = Environment.GetEnvironmentVariable("NMS_FPING") ?? "/usr/bin/fping",
                 })
        {
            host.Settings[name] = value;
        }

        host.ConfigureLogging = logging => logging.SetMinimumLevel(LogLevel.Warning);
        var app = LocalFunctionsHost.Build(host);
        await app.StartAsync();
        try
        {
            Console.WriteLine("warming up...");
            await Task.Delay(TimeSpan.FromSeconds(warmup));
            var parts = new PipelineCpu(await PipelineCpu.PostmasterPidAsync(db.ConnectionString), AzuritePid());
            recorder.Reset();
            var cpu = new CpuMeter();
            var children = ChildCpu();
            var partsAtStart = parts.Take();
            var walAtStart = await WalLsnAsync(db);
            using var runtime = new AppRuntimeProfile(Array.IndexOf(args, "--jit-events") >= 0);
            for (var elapsed = 0; elapsed < duration; elapsed += 10)
            {
                var machine = new CpuMeter();
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(10, duration - elapsed)));
                Console.WriteLine($"  t+{cpu.Elapsed.TotalSeconds,4:F0} s: {recorder.Polled / cpu.Elapsed.TotalSeconds,7:F1} polls/s, lag p99 {recorder.LagPercentile(0.99),5:F2} s (pop {recorder.PopLagPercentile(0.99),5:F2} s), machine {machine.MachineBusy,4:P0}, {recorder.Rows / cpu.Elapsed.TotalSeconds,8:F0} rows/s, unreachable {recorder.Unreachable}, failed {recorder.Failed}");
            }

            var seconds = cpu.Elapsed.TotalSeconds;
            var pluginCpu = (ChildCpu() - children).TotalSeconds / seconds;
            var used = parts.Take() - partsAtStart;
            var walBytes = await WalBytesSinceAsync(db, walAtStart);
            Console.WriteLine();
            Console.WriteLine($"devices {devices:N0}, interval {interval} s, measured {seconds:F0} s (expected {devices / (double)interval:F1} polls/s)");
            Console.WriteLine($"sustained polls/s:      {recorder.Polled / seconds:F1} (unreachable {recorder.Unreachable}, poll failures {recorder.Failed})");
            Console.WriteLine($"scheduler lag (poll start - due): p50 {recorder.LagPercentile(0.50):F2} s, p99 {recorder.LagPercentile(0.99):F2} s, max {recorder.LagPercentile(1):F2} s over {recorder.LagCount:N0} polls");
            Console.WriteLine($"  of which scheduling (pop - due): p50 {recorder.PopLagPercentile(0.50):F2} s, p99 {recorder.PopLagPercentile(0.99):F2} s");
            Console.WriteLine($"metrics rows/s:         {recorder.Rows / seconds:F0}");
            Console.WriteLine($"CPU: app process {cpu.ProcessCores:F2} cores, plugin processes {pluginCpu:F2} cores, whole machine {cpu.MachineBusy:P0} of 2 cores busy (everything running, other users included)");
            Console.WriteLine($"peak memory (app process working set): {Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024)} MiB");
            PrintPerPoll(used, recorder.Polled, walBytes, seconds, parts);
            runtime.Print(recorder.Polled, used.App.Cpu);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        return 0;
    }

    private static async Task SeedAsync(BenchDatabase db, int devices, int interval, string plugin, int port, string key)
    {
        await using var dataSource = NpgsqlDataSource.Create(db.ConnectionString);
        var sealer = new SecretSealer(new CryptoOptions { ActiveKeyId = "bench", Keys = { ["bench"] = key } });
        var secret = new CredentialReader(dataSource, sealer).Seal(new CredentialSecretFields(Community: "public"));
        var credential = (long)(await InsertCredentialAsync(dataSource, secret))!;
        var now = DateTimeOffset.UtcNow;
        var provisions = Enumerable.Range(1, devices)
            .Select(g => new DeviceProvision(new IPAddress([127, 20, (byte)(g / 256), (byte)(g % 256)]), port, plugin, interval, credential))
            .ToList();
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var created = await DeviceLifecycle.ProvisionManyAsync(connection, transaction, provisions, now, CancellationToken.None);
        // Deadlines spread evenly over one interval, as a steady state would have them.
        var deadlines = created.OrderBy(d => d.DeviceId).Select((d, i) => (d.DeviceId, now + TimeSpan.FromSeconds(i * (double)interval / devices))).ToList();
        await DeviceLifecycle.RescheduleAsync(connection, transaction, deadlines, CancellationToken.None);
        await transaction.CommitAsync();
    }

    private static async Task<object?> InsertCredentialAsync(NpgsqlDataSource dataSource, SealedSecret secret)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO credential_profiles (name, protocol, secret_ciphertext, secret_key_id, created_at, updated_at)
            VALUES ('bench', 'snmp_v2c', $1, $2, now(), now()) RETURNING id
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = secret.Ciphertext });
        command.Parameters.Add(new NpgsqlParameter { Value = secret.KeyId });
        return await command.ExecuteScalarAsync();
    }

    /// <summary>CPU per device poll of each part over the measured window, and bytes written per poll.</summary>
    private static void PrintPerPoll(PipelineCpu.Snapshot used, long polls, long walBytes, double seconds, PipelineCpu parts)
    {
        var n = Math.Max(1, polls);
        string Ms(PartReading part) => $"{part.Cpu.TotalMilliseconds / n,6:F3} ms  ({part.Cpu.TotalSeconds / seconds:F2} cores)";
        Console.WriteLine();
        Console.WriteLine($"CPU per device poll over {polls:N0} polls:");
        Console.WriteLine($"  app process (scheduler, poller, queue clients, writer): {Ms(used.App)}");
        Console.WriteLine($"  plugin processes (snmp plugin, fping):                  {Ms(used.Plugins)}");
        Console.WriteLine(parts.PostgresPid is null
            ? "  PostgreSQL server processes:                            not measured (server not on this machine)"
            : $"  PostgreSQL server processes:                            {Ms(used.Postgres)}");
        Console.WriteLine(parts.AzuritePid is null
            ? "  Azurite:                                                not measured (set NMS_BENCH_AZURITE_PID)"
            : $"  Azurite:                                                {Ms(used.Azurite)}");
        var ours = used.App.Cpu + used.Plugins.Cpu + used.Postgres.Cpu;
        Console.WriteLine($"  app + plugins + PostgreSQL:                             {ours.TotalMilliseconds / n,6:F3} ms");
        Console.WriteLine($"bytes written per poll: PostgreSQL WAL {walBytes / (double)n:F0} B, PostgreSQL disk {used.Postgres.WrittenBytes / (double)n:F0} B, Azurite disk {used.Azurite.WrittenBytes / (double)n:F0} B");
    }

    private static int? AzuritePid() =>
        int.TryParse(Environment.GetEnvironmentVariable("NMS_BENCH_AZURITE_PID"), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;

    private static async Task<string> WalLsnAsync(BenchDatabase db)
    {
        await using var connection = new NpgsqlConnection(db.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_current_wal_lsn()::text", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<long> WalBytesSinceAsync(BenchDatabase db, string start)
    {
        await using var connection = new NpgsqlConnection(db.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = start });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>CPU time of this process's reaped children (the plugin processes), from /proc/self/stat.</summary>
    private static TimeSpan ChildCpu()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>Listens to the <c>Nms</c> meter: polls, lag samples, rows.</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener listener = new();
        private readonly List<double> lags = [];
        private readonly List<double> popLags = [];
        private long polled;
        private long unreachable;
        private long failed;
        private long rows;

        public Recorder()
        {
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == NmsInstruments.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            {
                switch (instrument.Name)
                {
                    case "nms.polling.devices_polled": Interlocked.Add(ref polled, value); break;
                    case "nms.polling.devices_unreachable": Interlocked.Add(ref unreachable, value); break;
                    case "nms.polling.devices_failed": Interlocked.Add(ref failed, value); break;
                    case "nms.metrics.rows_written": Interlocked.Add(ref rows, value); break;
                }
            });
            listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
            {
                var list = instrument.Name switch
                {
                    "nms.polling.poll_lag" => lags,
                    "nms.polling.scheduler_lag" => popLags,
                    _ => null,
                };
                if (list is not null)
                {
                    lock (list)
                    {
                        list.Add(value);
                    }
                }
            });
            listener.Start();
        }

        public long Polled => Interlocked.Read(ref polled);
        public long Unreachable => Interlocked.Read(ref unreachable);
        public long Failed => Interlocked.Read(ref failed);
        public long Rows => Interlocked.Read(ref rows);
        public int LagCount
        {
            get
            {
                lock (lags)
                {
                    return lags.Count;
                }
            }
        }

        public double LagPercentile(double p) => Percentile(lags, p);

        public double PopLagPercentile(double p) => Percentile(popLags, p);

        private static double Percentile(List<double> values, double p)
        {
            lock (values)
            {
                if (values.Count == 0)
                {
                    return double.NaN;
                }

                var sorted = values.Order().ToList();
                return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
            }
        }

        public void Reset()
        {
            Interlocked.Exchange(ref polled, 0);
            Interlocked.Exchange(ref unreachable, 0);
            Interlocked.Exchange(ref failed, 0);
            Interlocked.Exchange(ref rows, 0);
            lock (lags)
            {
                lags.Clear();
            }

            lock (popLags)
            {
                popLags.Clear();
            }
        }

        public void Dispose() => listener.Dispose();
    }

    /// <summary>A private snmpd on a free UDP port of every loopback address, community <c>public</c>: the shared <see cref="SnmpdProcess"/>.</summary>
    private sealed class Snmpd : IDisposable
    {
        private readonly SnmpdProcess process;

        private Snmpd(SnmpdProcess process) => this.process = process;

        public int Port => process.Port;

        public static Snmpd Start() =>
            new(SnmpdProcess.StartAsync(new SnmpdOptions { Addresses = [], SysName = "nms-bench" }).GetAwaiter().GetResult());

        public void Dispose() => process.Dispose();
    }
}
