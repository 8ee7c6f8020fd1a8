using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Metrics;
using Npgsql;
using NpgsqlTypes;

namespace Nms.Bench;

/// <summary>
/// <c>metrics-store --generate direct</c>: the v2 store as 30 days of running would leave it, written
/// straight in its stored formats (the compactor's and the rollup encoder's codecs, binary COPY), for
/// device counts the SQL generator plus a real compaction cannot reach (10,000 devices x 50 series is
/// 21.6 G samples). Generated: the series dictionary, the hot rows after compaction's watermark, raw
/// blocks and shared block times for <c>--raw-days</c> before it, the 1-hour tier for all 30 days
/// (encoded weeks and the open week's plain rows) and the 5-minute tier for <c>--rollup5m-days</c>
/// (encoded days and the open day's plain rows). Every partition 30 days of running would have is
/// created, empty where nothing was generated, so the queries are planned over the same partitions.
/// Each table is written in the order its writer produces it (the compactor: window, then device), so
/// a device's rows are spread over the heap as in production. Then: storage per tier, the plans of
/// the queries' statements (which partitions they read), and the query rows warm and cold.
/// Options: --devices, --days (30), --raw-days (2), --rollup5m-days (2), --runs (9), --cold (1: restart
/// PostgreSQL and drop the OS cache before each run; needs ./nms bench's NMS_BENCH_PG_DATA and root),
/// --streams (parallel: the tables' COPYs at once; sequential, to time each).
/// </summary>
internal static class MetricsStoreDirect
{
    private const int ChunkDevices = 200;

    public static async Task<int> RunAsync(BenchArgs options)
    {
        var devices = options.Int("devices", 10);
        var days = options.Int("days", 30);
        var rawDays = options.Int("raw-days", 2);
        var rollup5mDays = options.Int("rollup5m-days", 2);
        var runs = options.Int("runs", 9);
        var metricsOptions = new MetricsOptions { MaxRowsPerQuery = 10_000_000 };
        var plan = Timeline.Create(DateTime.UtcNow, days, rawDays, rollup5mDays, TimeSpan.FromMinutes(metricsOptions.CompactionWindowMinutes));
        var shape = new DirectShape(devices, plan.Start, 60, days * 1440);
        Console.WriteLine($"metrics-store --generate direct: {devices:N0} devices x {DirectShape.Series.Length} series x {days} days at 60 s = {(long)devices * DirectShape.Series.Length * shape.Samples:N0} samples in time, {plan.Start:yyyy-MM-dd HH:mm} .. {plan.End:yyyy-MM-dd HH:mm} (a Thursday 05:00: mid-week, early in the day)");
        Console.WriteLine($"compaction watermark {plan.Watermark:yyyy-MM-dd HH:mm}; generated: hot rows after it, raw blocks from {plan.RawFrom:yyyy-MM-dd HH:mm}, 5-minute tier from {plan.Rollup5mFrom:yyyy-MM-dd HH:mm} (encoded days before {plan.Open5m:yyyy-MM-dd}, plain rows after), 1-hour tier from the start (encoded weeks before {plan.Open1h:yyyy-MM-dd}, plain rows after)");

        await using var db = await BenchDatabase.CreateAsync();
        await using var data = NmsDataSources.Create(db.ConnectionString + ";Application Name=bench-api", db.ConnectionString + ";Application Name=bench-metrics");
        var time = new FixedTime(plan.End);
        var partitions = new MetricsPartitions(data.Metrics, metricsOptions, time, NullLogger<MetricsPartitions>.Instance);

        var watch = Stopwatch.StartNew();
        await CreatePartitionsAsync(partitions, plan, metricsOptions);
        await MetricsStoreBench.ExecAsync(data.Api, string.Create(CultureInfo.InvariantCulture, $"""
            INSERT INTO devices (id, ip, port, plugin, poll_interval_seconds, created_at, updated_at)
            OVERRIDING SYSTEM VALUE
            SELECT d, ('10.0.0.0'::inet + d), 161, 'snmp', 60, now(), now() FROM generate_series(1, {devices}) d
            """));
        var counts = new Counts();
        var generator = new Generator(shape, plan, counts);
        var streams = new[]
        {
            generator.Series, generator.Hot, generator.BlockTimes, generator.Blocks,
            generator.Rollups(MetricsRollupTier.OneHour, plan.Start, plan.Open1h), generator.PlainRollups(MetricsRollupTier.OneHour, plan.Open1h),
            generator.Rollups(MetricsRollupTier.FiveMinutes, plan.Rollup5mFrom, plan.Open5m), generator.PlainRollups(MetricsRollupTier.FiveMinutes, plan.Open5m),
        };
        if (options.Get("streams", "parallel") == "sequential")
        {
            foreach (var stream in streams)
            {
                await CopyAsync(db.ConnectionString, stream, CancellationToken.None);
            }
        }
        else
        {
            await Task.WhenAll(streams.Select(stream => CopyAsync(db.ConnectionString, stream, CancellationToken.None)));
        }

        await MetricsStoreBench.ExecAsync(data.Api, string.Create(CultureInfo.InvariantCulture, $"""
            SELECT setval('metric_series_id_seq', {(long)devices * DirectShape.Series.Length});
            INSERT INTO metric_compaction (id, compacted_until, updated_at) VALUES (1, '{plan.Watermark.UtcDateTime:O}', now())
            """));
        var copied = watch.Elapsed;
        await MetricsStoreBench.ExecAsync(data.Api, "VACUUM ANALYZE");
        Console.WriteLine($"generated in {watch.Elapsed.TotalSeconds:F0} s (COPY {copied.TotalSeconds:F0} s, VACUUM ANALYZE {(watch.Elapsed - copied).TotalSeconds:F0} s)");

        await StorageAsync(data.Api, counts);
        var device = Math.Max(1, devices / 2);
        await ExplainAsync(data.Api, device, plan, metricsOptions);
        await QueriesAsync(data, metricsOptions, time, device, device > 1 ? 1 : devices, runs, options.Int("cold", 1) == 1);
        return 0;
    }

    /// <summary>Every partition 30 days of running leaves (raw: its retention), and the hot days ahead.</summary>
    private static async Task CreatePartitionsAsync(MetricsPartitions partitions, Timeline plan, MetricsOptions options)
    {
        IEnumerable<DateTimeOffset> Days(DateTimeOffset from, DateTimeOffset to)
        {
            for (var day = from; day <= to; day = day.AddDays(1))
            {
                yield return day;
            }
        }

        var rawFrom = plan.End.AddDays(-Math.Min(options.RawRetentionDays, (plan.End - plan.Start).TotalDays));
        foreach (var tier in new[] { partitions.Hot, partitions.Blocks, partitions.BlockTimes })
        {
            await partitions.EnsureAsync(tier, Days(rawFrom, plan.End), CancellationToken.None);
        }

        foreach (var tier in new[] { partitions.Rollups5m, partitions.RollupBlocks5m, partitions.Rollups1h, partitions.RollupBlocks1h })
        {
            // A span row is keyed by its span's start, which may be before the data's first day.
            await partitions.EnsureAsync(tier, Days(plan.Start.AddDays(-7), plan.End), CancellationToken.None);
        }

        await partitions.MaintainAsync(CancellationToken.None);
    }

    private static async Task CopyAsync(string connectionString, CopyStream stream, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString + ";Application Name=bench-generate");
        await connection.OpenAsync(cancellationToken);
        var watch = Stopwatch.StartNew();
        await Task.Run(
            () =>
            {
                using var importer = connection.BeginBinaryImport(stream.Copy);
                stream.Write(importer, cancellationToken);
                importer.Complete();
            },
            cancellationToken);
        Console.WriteLine($"  {stream.Copy[..stream.Copy.IndexOf(" FROM", StringComparison.Ordinal)]}: {watch.Elapsed.TotalSeconds:F0} s");
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "Table names of this file.")]
    private static async Task StorageAsync(NpgsqlDataSource api, Counts counts)
    {
        var rows = new (string What, string[] Tables, long Samples)[]
        {
            ("series dictionary metric_series (per sample of the hot rows and blocks)", ["metric_series"], counts.HotSamples + counts.BlockSamples),
            ("hot table metric_polls (after the watermark)", ["metric_polls"], counts.HotSamples),
            ("raw blocks metric_blocks + shared times metric_block_times", ["metric_blocks", "metric_block_times"], counts.BlockSamples),
            ("  of which metric_block_times", ["metric_block_times"], counts.BlockSamples),
            ("5-minute tier, encoded days metric_rollup_blocks_5m, per raw sample covered", ["metric_rollup_blocks_5m"], counts.Encoded5m),
            ("5-minute tier, the open day's plain rows metric_rollups_5m", ["metric_rollups_5m"], counts.Plain5m),
            ("1-hour tier, encoded weeks metric_rollup_blocks_1h", ["metric_rollup_blocks_1h"], counts.Encoded1h),
            ("1-hour tier, the open week's plain rows metric_rollups_1h", ["metric_rollups_1h"], counts.Plain1h),
        };
        Console.WriteLine();
        Console.WriteLine("| table | samples (raw samples covered) | on disk, indexes and TOAST included | bytes per sample |");
        Console.WriteLine("| --- | --- | --- | --- |");
        long total = 0;
        foreach (var (what, tables, samples) in rows)
        {
            long bytes = 0;
            foreach (var table in tables)
            {
                await using var command = api.CreateCommand("""
                    SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
                    FROM pg_class c
                    WHERE c.oid = $1::regclass OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = $1::regclass)
                    """);
                command.Parameters.Add(new NpgsqlParameter { Value = table });
                bytes += (long)(await command.ExecuteScalarAsync())!;
            }

            total += what.StartsWith(' ') ? 0 : bytes;
            Console.WriteLine($"| {what} | {samples:N0} | {bytes / 1073741824.0:N2} GiB | {(double)bytes / Math.Max(1, samples):F2} |");
        }

        await using var size = api.CreateCommand("SELECT pg_database_size(current_database())");
        Console.WriteLine($"| total of these | | {total / 1073741824.0:N2} GiB (database {(long)(await size.ExecuteScalarAsync())! / 1073741824.0:N2} GiB) | |");
    }

    /// <summary>The plan of each statement the query rows run, with the partitions it reads (and those pruned or never executed).</summary>
    private static async Task ExplainAsync(NpgsqlDataSource api, long device, Timeline plan, MetricsOptions options)
    {
        var to = plan.End.UtcDateTime;
        var day = to.AddDays(-1);
        var month = to.AddDays(-30);
        var watermark = plan.Watermark.UtcDateTime;
        var window = TimeSpan.FromMinutes(options.CompactionWindowMinutes);
        var all = Enumerable.Range(1, DirectShape.Series.Length).Select(s => (device - 1) * DirectShape.Series.Length + s).ToArray();
        var one = new[] { (device - 1) * DirectShape.Series.Length + 43 };
        var statements = new (string What, string Sql, object[] Parameters)[]
        {
            ("24 h raw / rate: hot rows", MetricsSql.HotRows, [device, all, day, to]),
            ("24 h raw / rate: blocks with shared times", MetricsSql.Blocks, [device, all, day, to, window]),
            ("24 h step 5m: encoded 5-minute days", MetricsRollupTier.FiveMinutes.Sql(MetricsSql.RollupBlocks), [device, all, day, watermark, TimeSpan.FromDays(1)]),
            ("24 h step 5m: plain 5-minute rows", MetricsRollupTier.FiveMinutes.Sql(MetricsSql.PlainRollups), [device, all, day, watermark]),
            ("24 h step 5m: hot rows after the watermark", MetricsSql.HotRows, [device, all, watermark, to]),
            ("30 d step 1h: encoded 1-hour weeks", MetricsRollupTier.OneHour.Sql(MetricsSql.RollupBlocks), [device, one, month, watermark, TimeSpan.FromDays(7)]),
            ("30 d step 1h: plain 1-hour rows", MetricsRollupTier.OneHour.Sql(MetricsSql.PlainRollups), [device, one, month, watermark]),
            ("latest", MetricsSql.Latest, [device, day, 10_000_001, window]),
        };
        Console.WriteLine();
        Console.WriteLine($"plans on device {device} (EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF), warm; partitions listed are the ones in the plan):");
        foreach (var (what, sql, parameters) in statements)
        {
            await using var command = api.CreateCommand("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) " + sql);
            foreach (var p in parameters)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = p });
            }

            var lines = new List<string>();
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    lines.Add(reader.GetString(0));
                }
            }

            Console.WriteLine($"-- {what}");
            foreach (var line in lines)
            {
                Console.WriteLine("   " + line);
            }
        }
    }

    /// <summary>
    /// Each query row warm, cold (a restarted server: fresh backend, empty caches) and cold data only
    /// (restarted, the same query run once on a far device to load the catalog and the indexes' upper
    /// pages, then the OS cache dropped: the asked device's pages are in neither cache).
    /// </summary>
    private static async Task QueriesAsync(NmsDataSources data, MetricsOptions options, TimeProvider time, long device, long farDevice, int runs, bool cold)
    {
        var query = new MetricsQuery(data, options, time);
        var rows = new List<(string Goal, Func<long, Task<int>> Run)>();
        foreach (var (goal, text) in MetricsStoreBench.V2Queries(time.GetUtcNow()))
        {
            rows.Add((goal, async d => (await query.SeriesAsync(d, query.Parse(MetricsStoreBench.MetricsQueryString(text)), CancellationToken.None)).Series.Sum(s => s.Points.Count)));
        }

        rows.Add(("latest, 50 series (goal <= 10 ms)", async d => (await query.LatestAsync(d, null, CancellationToken.None)).Metrics.Count));
        var restart = cold ? Restarter.FromEnvironment() : null;
        Console.WriteLine();
        Console.WriteLine($"queries on device {device}, median of {runs} (server time: in-process, rows read, no HTTP){(restart is null ? "; cold not measured (needs ./nms bench's NMS_BENCH_PG_DATA, NMS_BENCH_PG_BIN and root)" : "")}:");
        Console.WriteLine($"| query | warm | cold (PostgreSQL restarted, OS cache dropped, before each run) | cold data (restarted, device {farDevice} read, OS cache dropped) | points |");
        Console.WriteLine("| --- | --- | --- | --- | --- |");
        foreach (var (goal, run) in rows)
        {
            var points = await run(device);
            var warm = await TimesAsync(runs, () => Task.CompletedTask, () => run(device));
            var coldTimes = restart is null ? [] : await TimesAsync(runs, () => restart.RestartAsync(data), () => run(device));
            var coldData = restart is null ? [] : await TimesAsync(runs, async () => { await restart.RestartAsync(data); await run(farDevice); await Restarter.DropCachesAsync(); }, () => run(device));
            Console.WriteLine($"| {goal} | {Median(warm):F1} ms | {Spread(coldTimes)} | {Spread(coldData)} | {points:N0} |");
        }
    }

    private static async Task<List<double>> TimesAsync(int runs, Func<Task> before, Func<Task<int>> run)
    {
        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            await before();
            var watch = Stopwatch.StartNew();
            await run();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        return times;
    }

    private static string Spread(List<double> times) => times.Count == 0 ? "-" : $"{Median(times):F1} ms (min {times.Min():F1}, max {times.Max():F1})";

    private static double Median(List<double> times) => times.Order().ElementAt(times.Count / 2);

    /// <summary>Restarts the bench's PostgreSQL and empties the OS page cache, then opens a connection (not timed).</summary>
    private sealed class Restarter(string dataDirectory, string binDirectory)
    {
        public static Restarter? FromEnvironment() =>
            Environment.GetEnvironmentVariable("NMS_BENCH_PG_DATA") is { Length: > 0 } dir && Environment.GetEnvironmentVariable("NMS_BENCH_PG_BIN") is { Length: > 0 } bin && Environment.UserName == "root"
                ? new Restarter(dir, bin)
                : null;

        public async Task RestartAsync(NmsDataSources data)
        {
            NpgsqlConnection.ClearAllPools();
            data.Api.Clear();
            data.Metrics.Clear();
            await RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(binDirectory, "pg_ctl"), "-D", dataDirectory, "-l", Path.Combine(dataDirectory, "server.log"), "-m", "fast", "-w", "-t", "120", "restart"]);
            await DropCachesAsync();
            await using var connection = await data.Api.OpenConnectionAsync();
            await using var ping = new NpgsqlCommand("SELECT 1", connection);
            await ping.ExecuteScalarAsync();
        }

        public static async Task DropCachesAsync()
        {
            await RunAsync("sync", []);
            await File.WriteAllTextAsync("/proc/sys/vm/drop_caches", "3");
        }

        private static async Task RunAsync(string file, string[] args)
        {
            var start = new ProcessStartInfo(file) { WorkingDirectory = "/", RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args)
            {
                start.ArgumentList.Add(a);
            }

            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"{file} failed ({process.ExitCode}): {await output} {await error}");
            }
        }
    }

    /// <summary>
    /// The times the data set is cut at. End: the latest Thursday 05:00 UTC, so the open spans are
    /// fixed from run to run (the 1-hour tier's open week holds 3 days and 2 hours of plain rows, the
    /// 5-minute tier's open day 2 hours). Compaction's watermark: the end of the last window closed
    /// <see cref="MetricsCompactor.HotFor"/> before the end, as the compactor leaves it.
    /// </summary>
    private sealed record Timeline(DateTimeOffset End, DateTimeOffset Start, DateTimeOffset Watermark, DateTimeOffset RawFrom, DateTimeOffset Rollup5mFrom, DateTimeOffset Open5m, DateTimeOffset Open1h, TimeSpan Window)
    {
        public static Timeline Create(DateTime now, int days, int rawDays, int rollup5mDays, TimeSpan window)
        {
            var today = now.Date;
            var end = new DateTimeOffset(today.AddDays(-(((int)today.DayOfWeek - (int)DayOfWeek.Thursday + 7) % 7)).AddHours(5), TimeSpan.Zero);
            var watermark = Floor(end - MetricsCompactor.HotFor, window);
            var watermarkDay = Floor(watermark, TimeSpan.FromDays(1));
            var start = end.AddDays(-days);
            DateTimeOffset Later(DateTimeOffset t) => t < start ? start : t;
            return new Timeline(end, start, watermark, Later(watermarkDay.AddDays(-rawDays)), Later(watermarkDay.AddDays(-rollup5mDays)),
                MetricsRollupTier.FiveMinutes.SpanOf(watermark), MetricsRollupTier.OneHour.SpanOf(watermark), window);
        }

        private static DateTimeOffset Floor(DateTimeOffset at, TimeSpan width) =>
            MetricsTime.Origin + TimeSpan.FromTicks((at - MetricsTime.Origin).Ticks / width.Ticks * width.Ticks);
    }

    /// <summary>Samples (raw samples covered, for rollups) written per table, for bytes per sample.</summary>
    private sealed class Counts
    {
        public long HotSamples;
        public long BlockSamples;
        public long Encoded5m;
        public long Plain5m;
        public long Encoded1h;
        public long Plain1h;
    }

    /// <summary>One COPY and the rows it writes.</summary>
    private sealed record CopyStream(string Copy, Action<NpgsqlBinaryImporter, CancellationToken> Write);

    /// <summary>The tables' rows, each in the order its production writer writes it.</summary>
    private sealed class Generator(DirectShape shape, Timeline plan, Counts counts)
    {
        private static readonly int SeriesCount = DirectShape.Series.Length;

        public CopyStream Series => new(
            "COPY metric_series (device_id, id, name, labels, kind, counter_bits, first_seen_at, last_seen_at) FROM STDIN (FORMAT BINARY)",
            (copy, cancellationToken) =>
            {
                var lastSeen = MetricsTime.FromMicros(plan.Watermark.ToUnixTimeMilliseconds() * 1000 - 1);
                for (var d = 1; d <= shape.Devices; d++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var first = MetricsTime.FromMicros(shape.Micros(d, 0));
                    foreach (var s in DirectShape.Series)
                    {
                        copy.StartRow();
                        copy.Write((long)d, NpgsqlDbType.Bigint);
                        copy.Write(shape.SeriesId(d, s.No), NpgsqlDbType.Bigint);
                        copy.Write(s.Name, NpgsqlDbType.Text);
                        copy.Write(s.Labels, NpgsqlDbType.Jsonb);
                        copy.Write(s.Counter ? "counter" : "gauge", NpgsqlDbType.Text);
                        if (s.Counter)
                        {
                            copy.Write((short)64, NpgsqlDbType.Smallint);
                        }
                        else
                        {
                            copy.WriteNull();
                        }

                        copy.Write(first, NpgsqlDbType.TimestampTz);
                        copy.Write(lastSeen, NpgsqlDbType.TimestampTz);
                    }
                }
            });

        /// <summary>Polls after the watermark, in time order (as they arrive), one row per device and poll.</summary>
        public CopyStream Hot => new(
            MetricsSql.Copy,
            (copy, cancellationToken) =>
            {
                var (from, to) = (Micros(plan.Watermark), Micros(plan.End));
                var ids = new long[SeriesCount];
                var values = new double[SeriesCount];
                for (var k = shape.FirstAtOrAfter(from) - 1; k < shape.Samples; k++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var any = false;
                    for (var d = 1; d <= shape.Devices; d++)
                    {
                        var micros = shape.Micros(d, k);
                        if (k < 0 || micros < from || micros >= to)
                        {
                            continue;
                        }

                        any = true;
                        for (var s = 0; s < SeriesCount; s++)
                        {
                            ids[s] = shape.SeriesId(d, s + 1);
                            values[s] = shape.Value(d, s + 1, k);
                        }

                        copy.StartRow();
                        copy.Write((long)d, NpgsqlDbType.Bigint);
                        copy.Write(MetricsTime.FromMicros(micros), NpgsqlDbType.TimestampTz);
                        copy.Write(ids, NpgsqlDbType.Array | NpgsqlDbType.Bigint);
                        copy.Write(values, NpgsqlDbType.Array | NpgsqlDbType.Double);
                        counts.HotSamples += SeriesCount;
                    }

                    if (!any && shape.Micros(1, k) >= to)
                    {
                        break;
                    }
                }
            });

        /// <summary>Shared poll times of each device and window, as the compactor writes them: window by window, device by device.</summary>
        public CopyStream BlockTimes => new(
            "COPY metric_block_times (device_id, window_start, data) FROM STDIN (FORMAT BINARY)",
            (copy, cancellationToken) =>
            {
                for (var window = plan.RawFrom; window < plan.Watermark; window += plan.Window)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    for (var d = 1; d <= shape.Devices; d++)
                    {
                        copy.StartRow();
                        copy.Write((long)d, NpgsqlDbType.Bigint);
                        copy.Write(window.UtcDateTime, NpgsqlDbType.TimestampTz);
                        copy.Write(MetricsBlockCodec.EncodeTimes(shape.Polls(d, Micros(window), Micros(window + plan.Window)).Micros), NpgsqlDbType.Bytea);
                    }
                }
            });

        /// <summary>Raw blocks (values only: every series has its device's shared times), window by window, device by device.</summary>
        public CopyStream Blocks => new(
            "COPY metric_blocks (device_id, series_id, window_start, start_ts, end_ts, sample_count, last_value, data) FROM STDIN (FORMAT BINARY)",
            (copy, cancellationToken) =>
            {
                for (var window = plan.RawFrom; window < plan.Watermark; window += plan.Window)
                {
                    var windowStart = window.UtcDateTime;
                    foreach (var chunk in Chunks())
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        var encoded = chunk.AsParallel().AsOrdered().Select(d => EncodeWindow(d, window)).ToList();
                        foreach (var (d, micros, blocks, lasts) in encoded)
                        {
                            for (var s = 0; s < SeriesCount; s++)
                            {
                                copy.StartRow();
                                copy.Write((long)d, NpgsqlDbType.Bigint);
                                copy.Write(shape.SeriesId(d, s + 1), NpgsqlDbType.Bigint);
                                copy.Write(windowStart, NpgsqlDbType.TimestampTz);
                                copy.Write(MetricsTime.FromMicros(micros[0]), NpgsqlDbType.TimestampTz);
                                copy.Write(MetricsTime.FromMicros(micros[^1]), NpgsqlDbType.TimestampTz);
                                copy.Write(micros.Length, NpgsqlDbType.Integer);
                                copy.Write(lasts[s], NpgsqlDbType.Double);
                                copy.Write(blocks[s], NpgsqlDbType.Bytea);
                            }

                            counts.BlockSamples += (long)SeriesCount * micros.Length;
                        }
                    }
                }
            });

        /// <summary>The encoded spans of a tier in [from, until): span by span, device by device, as the encoder writes them.</summary>
        public CopyStream Rollups(MetricsRollupTier tier, DateTimeOffset from, DateTimeOffset until) => new(
            tier.Sql("COPY {1} (device_id, series_id, span_start, bucket_count, data) FROM STDIN (FORMAT BINARY)"),
            (copy, cancellationToken) =>
            {
                for (var span = tier.SpanOf(from); span < until; span += tier.Span)
                {
                    var (a, b) = (span < from ? from : span, span + tier.Span);
                    foreach (var chunk in Chunks())
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        var encoded = chunk.AsParallel().AsOrdered()
                            .Select(d => (Device: d, Series: SeriesBuckets(d, a, b, tier.Bucket)))
                            .Select(x => (x.Device, Rows: x.Series.Select(bs => (bs.Count, Covered: bs.Sum(q => q.Count), Data: bs.Count > 0 ? MetricsRollupCodec.Encode(bs) : null)).ToArray()))
                            .ToList();
                        foreach (var (d, series) in encoded)
                        {
                            for (var s = 0; s < SeriesCount; s++)
                            {
                                if (series[s].Data is not { } bytes)
                                {
                                    continue;
                                }

                                copy.StartRow();
                                copy.Write((long)d, NpgsqlDbType.Bigint);
                                copy.Write(shape.SeriesId(d, s + 1), NpgsqlDbType.Bigint);
                                copy.Write(span.UtcDateTime, NpgsqlDbType.TimestampTz);
                                copy.Write(series[s].Count, NpgsqlDbType.Integer);
                                copy.Write(bytes, NpgsqlDbType.Bytea);
                                if (tier == MetricsRollupTier.OneHour)
                                {
                                    counts.Encoded1h += series[s].Covered;
                                }
                                else
                                {
                                    counts.Encoded5m += series[s].Covered;
                                }
                            }
                        }
                    }
                }
            });

        /// <summary>The open span's plain rows, [from, watermark): window by window, device by device, as compaction writes them.</summary>
        public CopyStream PlainRollups(MetricsRollupTier tier, DateTimeOffset from) => new(
            tier.Sql("COPY {0} (device_id, series_id, bucket, sample_count, min, max, sum, last, increase, increase_seconds) FROM STDIN (FORMAT BINARY)"),
            (copy, cancellationToken) =>
            {
                for (var window = from; window < plan.Watermark; window += plan.Window)
                {
                    foreach (var chunk in Chunks())
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        var rows = chunk.AsParallel().AsOrdered()
                            .Select(d => (Device: d, Series: SeriesBuckets(d, window, window + plan.Window, tier.Bucket)))
                            .ToList();
                        foreach (var (d, series) in rows)
                        {
                            for (var s = 0; s < SeriesCount; s++)
                            {
                                foreach (var b in series[s])
                                {
                                    copy.StartRow();
                                    copy.Write((long)d, NpgsqlDbType.Bigint);
                                    copy.Write(shape.SeriesId(d, s + 1), NpgsqlDbType.Bigint);
                                    copy.Write(MetricsTime.FromMicros(b.Micros), NpgsqlDbType.TimestampTz);
                                    copy.Write((int)b.Count, NpgsqlDbType.Integer);
                                    copy.Write(b.Min, NpgsqlDbType.Double);
                                    copy.Write(b.Max, NpgsqlDbType.Double);
                                    copy.Write(b.Sum, NpgsqlDbType.Double);
                                    copy.Write(b.Last, NpgsqlDbType.Double);
                                    WriteNullable(copy, b.Increase);
                                    WriteNullable(copy, b.Seconds);
                                    if (tier == MetricsRollupTier.OneHour)
                                    {
                                        counts.Plain1h += b.Count;
                                    }
                                    else
                                    {
                                        counts.Plain5m += b.Count;
                                    }
                                }
                            }
                        }
                    }
                }
            });

        private static void WriteNullable(NpgsqlBinaryImporter copy, double? value)
        {
            if (value is { } v)
            {
                copy.Write(v, NpgsqlDbType.Double);
            }
            else
            {
                copy.WriteNull();
            }
        }

        private IEnumerable<int[]> Chunks()
        {
            for (var lo = 1; lo <= shape.Devices; lo += ChunkDevices)
            {
                yield return Enumerable.Range(lo, Math.Min(ChunkDevices, shape.Devices - lo + 1)).ToArray();
            }
        }

        /// <summary>One device's window: its poll times, and each series' values-only block and last value.</summary>
        private (int Device, long[] Micros, byte[][] Blocks, double[] Lasts) EncodeWindow(int device, DateTimeOffset window)
        {
            var (ks, micros) = shape.Polls(device, Micros(window), Micros(window + plan.Window));
            var blocks = new byte[SeriesCount][];
            var lasts = new double[SeriesCount];
            var values = new double[ks.Length];
            for (var s = 0; s < SeriesCount; s++)
            {
                shape.Values(device, s + 1, ks, values);
                blocks[s] = MetricsBlockCodec.EncodeValues(values);
                lasts[s] = values[^1];
            }

            return (device, micros, blocks, lasts);
        }

        private List<RollupBucket>[] SeriesBuckets(int device, DateTimeOffset from, DateTimeOffset to, TimeSpan width)
        {
            var (ks, micros) = shape.Polls(device, Micros(from), Micros(to));
            var values = new double[ks.Length];
            var result = new List<RollupBucket>[SeriesCount];
            var hasPrevious = ks.Length > 0 && ks[0] > 0;
            var previousMicros = hasPrevious ? shape.Micros(device, ks[0] - 1) : 0;
            for (var s = 1; s <= SeriesCount; s++)
            {
                shape.Values(device, s, ks, values);
                var previousValue = hasPrevious ? shape.Value(device, s, ks[0] - 1) : 0;
                result[s - 1] = Buckets(micros, values, DirectShape.Series[s - 1].Counter, hasPrevious, previousMicros, previousValue, (long)width.TotalMicroseconds);
            }

            return result;
        }

        /// <summary>
        /// One series' buckets as compaction computes them (MetricsSql.InsertRollups): count, min, max,
        /// sum, the last value, and the increase (counters: reset-aware) and seconds of the intervals
        /// ending in the bucket, each from the sample's predecessor; null where no interval ends.
        /// </summary>
        private static List<RollupBucket> Buckets(long[] micros, double[] values, bool counter, bool hasPrevious, long previousMicros, double previousValue, long widthMicros)
        {
            var origin = Micros(MetricsTime.Origin);
            var result = new List<RollupBucket>();
            var i = 0;
            while (i < micros.Length)
            {
                var bucket = origin + ((micros[i] - origin) / widthMicros * widthMicros);
                var end = bucket + widthMicros;
                long count = 0;
                double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0, last = 0, increase = 0, seconds = 0;
                var intervals = false;
                for (; i < micros.Length && micros[i] < end; i++)
                {
                    var value = values[i];
                    count++;
                    min = Math.Min(min, value);
                    max = Math.Max(max, value);
                    sum += value;
                    last = value;
                    if (hasPrevious)
                    {
                        increase += counter ? MetricsCounter.Delta(previousValue, value, 64) : value - previousValue;
                        seconds += (micros[i] - previousMicros) / 1e6;
                        intervals = true;
                    }

                    (hasPrevious, previousMicros, previousValue) = (true, micros[i], value);
                }

                result.Add(new RollupBucket(bucket, count, min, max, sum, last, intervals ? increase : null, intervals ? seconds : null));
            }

            return result;
        }

        private static long Micros(DateTimeOffset t) => MetricsTime.ToMicros(t.UtcDateTime);
    }

    /// <summary>The bench's "now": the end of the generated data.</summary>
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}

/// <summary>
/// The SQL generator's data shape (MetricsStoreBench.DataShape) computed in C#: 50 series per device
/// (6 interfaces x 7 if_* metrics, 4 CPUs, 2 storage areas x size/used), counters growing by a noisy
/// rate, error counters rarely, gauges noisy integers, one poll time per device and interval with
/// up to 2 s of jitter. Sample k of device d is a pure function of (d, series, k), so every tier
/// generated from it agrees with the others.
/// </summary>
internal sealed class DirectShape(int devices, DateTimeOffset start, int interval, int samples)
{
    public static readonly SeriesShape[] Series = BuildSeries();

    public int Devices => devices;

    public int Samples => samples;

    private readonly long startMicros = MetricsTime.ToMicros(start.UtcDateTime);

    public long SeriesId(int device, int series) => (long)(device - 1) * Series.Length + series;

    public long Micros(int device, long k) =>
        startMicros + (k * interval + device * 7 % interval) * 1_000_000L + (long)(Hash((device * 1000003L) + k) % 2000) * 1000;

    /// <summary>The first sample number whose poll may be at or after <paramref name="micros"/>, for any device.</summary>
    public long FirstAtOrAfter(long micros) => Math.Max(0, (micros - startMicros) / (interval * 1_000_000L) - 1);

    /// <summary>Sample numbers and times of a device's polls in [from, to).</summary>
    public (long[] Ks, long[] Micros) Polls(int device, long from, long to)
    {
        var ks = new List<long>();
        var micros = new List<long>();
        for (var k = FirstAtOrAfter(from); k < samples; k++)
        {
            var t = Micros(device, k);
            if (t >= to)
            {
                break;
            }

            if (t >= from)
            {
                ks.Add(k);
                micros.Add(t);
            }
        }

        return (ks.ToArray(), micros.ToArray());
    }

    public double Value(int device, int series, long k)
    {
        var no = series;
        return Series[series - 1].Kind switch
        {
            SeriesKind.Status => 1,
            SeriesKind.Octets => Octets(k, OctetsRate(no), OctetsNoise(no), no + (device * 977L)),
            SeriesKind.Rare => Math.Floor((double)k / (400 + no)),
            SeriesKind.Percent => Percent(k, no + (device * 131L)),
            SeriesKind.Constant => 8589934592,
            _ => Growing(k),
        };
    }

    /// <summary>The values of sample numbers <paramref name="ks"/> into <paramref name="into"/>: <see cref="Value"/> with the series' kind decided once.</summary>
    public void Values(int device, int series, long[] ks, double[] into)
    {
        var no = series;
        switch (Series[series - 1].Kind)
        {
            case SeriesKind.Octets:
                var (rate, noise, salt) = (OctetsRate(no), OctetsNoise(no), no + (device * 977L));
                for (var i = 0; i < ks.Length; i++)
                {
                    into[i] = Octets(ks[i], rate, noise, salt);
                }

                break;
            case SeriesKind.Percent:
                for (var i = 0; i < ks.Length; i++)
                {
                    into[i] = Percent(ks[i], no + (device * 131L));
                }

                break;
            case SeriesKind.Growing:
                for (var i = 0; i < ks.Length; i++)
                {
                    into[i] = Growing(ks[i]);
                }

                break;
            default:
                for (var i = 0; i < ks.Length; i++)
                {
                    into[i] = Value(device, series, ks[i]);
                }

                break;
        }
    }

    private double OctetsRate(int no) => interval * 125000.0 * (1 + (no % 6));

    private double OctetsNoise(int no) => interval * 62500.0 * (1 + (no % 6)) / 1000.0;

    private static double Octets(long k, double rate, double noise, long salt) => Math.Floor((k * rate) + (noise * (Hash((k * 31) + salt) % 1000)));

    private static double Percent(long k, long salt) => Hash((k * 17) + salt) % 100;

    private static double Growing(long k) => 4294967296 + (k * 4096);

    /// <summary>A stateless 64-bit mix (multiply, xor-shift): noise, not cryptography.</summary>
    private static ulong Hash(long x)
    {
        var z = (ulong)x * 0x9E3779B97F4A7C15UL;
        z ^= z >> 31;
        z *= 0xBF58476D1CE4E5B9UL;
        z ^= z >> 29;
        return z;
    }

    private static SeriesShape[] BuildSeries()
    {
        var list = new List<(string Name, string Labels, SeriesKind Kind)>();
        var ifMetrics = new (string, SeriesKind)[]
        {
            ("if_oper_status", SeriesKind.Status), ("if_in_octets_total", SeriesKind.Octets), ("if_out_octets_total", SeriesKind.Octets),
            ("if_in_errors_total", SeriesKind.Rare), ("if_out_errors_total", SeriesKind.Rare), ("if_in_discards_total", SeriesKind.Rare), ("if_out_discards_total", SeriesKind.Rare),
        };
        for (var i = 1; i <= 6; i++)
        {
            list.AddRange(ifMetrics.Select(m => (m.Item1, $"{{\"interface\": \"eth{i}\", \"if_index\": \"{i}\"}}", m.Item2)));
        }

        for (var c = 1; c <= 4; c++)
        {
            list.Add(("cpu_load_percent", $"{{\"cpu\": \"{c}\"}}", SeriesKind.Percent));
        }

        for (var s = 1; s <= 2; s++)
        {
            list.Add(("storage_size_bytes", $"{{\"storage\": \"{s}\"}}", SeriesKind.Constant));
            list.Add(("storage_used_bytes", $"{{\"storage\": \"{s}\"}}", SeriesKind.Growing));
        }

        return list.Select((x, i) => new SeriesShape(i + 1, x.Name, x.Labels, x.Kind, x.Name.EndsWith("_total", StringComparison.Ordinal))).ToArray();
    }

    internal sealed record SeriesShape(int No, string Name, string Labels, SeriesKind Kind, bool Counter);

    internal enum SeriesKind
    {
        Status,
        Octets,
        Rare,
        Percent,
        Constant,
        Growing,
    }
}
