using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Metrics;
using Npgsql;

namespace Nms.Bench;

/// <summary>
/// <c>metrics-store</c>: today's one-row-per-sample <c>metrics</c> table beside the v2 store on the same
/// generated data (generate_series, set-based): bytes per sample per tier, compaction CPU per sample,
/// the query goals' server times (in-process, no HTTP), then the ingest comparison (<see cref="IngestBench"/>).
/// Options: --devices (10), --series 50 (fixed shape), --days (30), --interval (60 s), --runs (9),
/// --ingest-rows (300000, 0 to skip).
/// </summary>
internal static class MetricsStoreBench
{
    private const int SeriesPerDevice = 50;

    public static async Task<int> RunAsync(string[] args)
    {
        var options = new BenchArgs(args);
        if (options.Get("generate", "sql") == "direct")
        {
            return await MetricsStoreDirect.RunAsync(options);
        }

        var devices = options.Int("devices", 10);
        var days = options.Int("days", 30);
        var interval = options.Int("interval", 60);
        var runs = options.Int("runs", 9);
        var samplesPerSeries = days * 86400 / interval;
        var end = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero);
        var start = end.AddDays(-days);
        var total = (long)devices * SeriesPerDevice * samplesPerSeries;
        Console.WriteLine($"metrics-store: {devices:N0} devices x {SeriesPerDevice} series x {days} days at {interval} s = {total:N0} samples, {start:yyyy-MM-dd} .. {end:yyyy-MM-dd}");

        await using var db = await BenchDatabase.CreateAsync();
        await using var data = NmsDataSources.Create(db.ConnectionString + ";Application Name=bench-api", db.ConnectionString + ";Application Name=bench-metrics");
        var metricsOptions = new MetricsOptions { MaxRowsPerQuery = 10_000_000, RawRetentionDays = 3650, Rollup5mRetentionDays = 3650, Rollup1hRetentionDays = 3650 };
        var time = new FixedTime(end);
        var partitions = new MetricsPartitions(data.Metrics, metricsOptions, time, NullLogger<MetricsPartitions>.Instance);
        var shape = new DataShape(devices, start, interval, samplesPerSeries);

        var watch = Stopwatch.StartNew();
        await shape.GenerateOldAsync(data.Api);
        Console.WriteLine($"generated today's store in {watch.Elapsed.TotalSeconds:F0} s");
        watch.Restart();
        await shape.GenerateNewAsync(data.Api, partitions);
        Console.WriteLine($"generated the v2 hot table in {watch.Elapsed.TotalSeconds:F0} s");
        await ExecAsync(data.Api, "VACUUM ANALYZE");

        var old = await BytesAsync(data.Api, "metrics");
        var hot = await BytesAsync(data.Api, "metric_polls", "metric_samples");
        var hot050 = await Hot050BytesAsync(data.Api, end.AddDays(-1));
        var arrays = await ArrayBlocksBytesAsync(data.Api, TimeSpan.FromMinutes(metricsOptions.CompactionWindowMinutes));

        // Compaction: this process's CPU plus that of the PostgreSQL backends it used (their whole life).
        await using var compactionSource = NpgsqlDataSource.Create(db.ConnectionString + ";Application Name=bench-compaction");
        var compactor = new MetricsCompactor(compactionSource, new MetricsPartitions(compactionSource, metricsOptions, time, NullLogger<MetricsPartitions>.Instance), metricsOptions, time, NullLogger<MetricsCompactor>.Instance);
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        watch.Restart();
        var compacted = await compactor.CompactAsync(CancellationToken.None);
        var compactionWall = watch.Elapsed;
        var appCpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var pgCpu = await BackendCpuAsync(data.Api, "bench-compaction");
        await ExecAsync(data.Api, "VACUUM ANALYZE");

        var blocks = await BytesAsync(data.Api, "metric_blocks");
        var times = await BytesAsync(data.Api, "metric_block_times");
        var hotAfter = await BytesAsync(data.Api, "metric_polls", "metric_samples");
        var rollups5m = await RollupLayoutsAsync(data.Api, MetricsRollupTier.FiveMinutes);
        var rollups1h = await RollupLayoutsAsync(data.Api, MetricsRollupTier.OneHour);
        var series = await BytesAsync(data.Api, "metric_series");

        Console.WriteLine();
        Console.WriteLine("| store / tier | rows | on disk (indexes included) | bytes per sample |");
        Console.WriteLine("| --- | --- | --- | --- |");
        Row("today: metrics (one row per sample)", old, old.Rows);
        Row("050's hot table, one row per sample (the last day's samples)", hot050, hot050.Rows);
        Row("v2 hot table metric_polls, one row per poll (052; before compaction)", hot, hot.Rows);
        Row("v2 blocks, Gorilla (C#): values", blocks, compacted.Samples);
        Row("v2 blocks: timestamps shared by a device's series", times, compacted.Samples);
        Row("v2 compacted total (blocks + shared timestamps)", (blocks.Rows, blocks.Bytes + times.Bytes), compacted.Samples);
        Row("alternative: float8[]/timestamptz[] blocks, lz4 TOAST", arrays, compacted.Samples);
        foreach (var (tier, layouts) in new[] { ("5-minute", rollups5m), ("1-hour", rollups1h) })
        {
            Row($"v2 {tier} rollups as plain rows, one per bucket (050; before 090), per raw sample covered", layouts.Plain, compacted.Samples);
            Row($"v2 {tier} rollups encoded (090): Gorilla spans {layouts.Encoded.Rows:N0} + the open span's plain rows {layouts.OpenPlain.Rows:N0}", (layouts.Encoded.Rows + layouts.OpenPlain.Rows, layouts.Encoded.Bytes + layouts.OpenPlain.Bytes), compacted.Samples);
            Row($"  of which encoded spans alone, per raw sample they cover", layouts.Encoded, Math.Max(1, compacted.Samples * layouts.EncodedBuckets / Math.Max(1, layouts.Plain.Rows)));
            Row($"alternative: the same spans as float8[]/integer[]/timestamptz[] columns, lz4 TOAST", layouts.Arrays, compacted.Samples);
        }

        Row("v2 series dictionary, per sample", series, compacted.Samples);
        Console.WriteLine($"hot rows left after compaction (the newest 3-5 h): {hotAfter.Rows:N0}");
        Console.WriteLine();
        Console.WriteLine($"compaction: {compacted.Samples:N0} samples into {compacted.Blocks:N0} blocks in {compacted.Windows} windows, {compacted.RollupSpans:N0} rollup spans encoded, {compactionWall.TotalSeconds:F1} s wall = {compacted.Samples / compactionWall.TotalSeconds:N0} samples/s");
        Console.WriteLine($"compaction CPU: app {appCpu.TotalSeconds:F1} s + PostgreSQL {pgCpu.TotalSeconds:F1} s = {(appCpu + pgCpu).TotalMilliseconds * 1e6 / Math.Max(1, compacted.Samples):F0} ns per sample");

        await QueriesAsync(data, metricsOptions, time, shape, runs);

        if (options.Int("ingest-rows", 300_000) is var ingestRows and > 0)
        {
            Console.WriteLine();
            await IngestBench.RunAsync(["--rows", ingestRows.ToString(CultureInfo.InvariantCulture), "--concurrency", options.Get("concurrency", "4")]);
        }

        return 0;
    }

    private static void Row(string what, (long Rows, long Bytes) size, long samples) =>
        Console.WriteLine($"| {what} | {size.Rows:N0} | {size.Bytes / 1048576.0:N1} MiB | {(double)size.Bytes / Math.Max(1, samples):F2} |");

    private static async Task QueriesAsync(NmsDataSources data, MetricsOptions options, TimeProvider time, DataShape shape, int runs)
    {
        var query = new MetricsQuery(data, options, time);
        var device = Math.Max(1, shape.Devices / 2);
        var to = time.GetUtcNow();
        var v2 = V2Queries(to);
        var legacy = new[]
        {
            (LegacySql.Raw, day: true, name: (string?)null, labels: "{}", step: 0),
            (LegacySql.Bucketed, day: true, name: (string?)null, labels: "{}", step: 300),
            (LegacySql.Bucketed, day: true, name: (string?)null, labels: "{}", step: 60),
            (LegacySql.Bucketed, day: false, name: (string?)"cpu_load_percent", labels: "{\"cpu\": \"1\"}", step: 3600),
            (LegacySql.Bucketed, day: false, name: (string?)"if_in_octets_total", labels: "{\"interface\": \"eth1\"}", step: 3600),
        };

        Console.WriteLine();
        Console.WriteLine($"queries on device {device}, median of {runs} (server time: in-process, rows read, no HTTP):");
        Console.WriteLine("| query | today's store | v2 store | v2 points |");
        Console.WriteLine("| --- | --- | --- | --- |");
        for (var i = 0; i < v2.Length; i++)
        {
            var l = legacy[i];
            var oldTime = await MedianAsync(runs, () => LegacyReadAsync(data.Api, l.Item1, device, l.day ? to.AddDays(-1) : to.AddDays(-30), to, l.name, l.labels, l.step));
            var points = 0;
            var newTime = await MedianAsync(runs, async () =>
            {
                var answer = await query.SeriesAsync(device, query.Parse(MetricsQueryString(v2[i].Query)), CancellationToken.None);
                points = answer.Series.Sum(s => s.Points.Count);
            });
            Console.WriteLine($"| {v2[i].Goal} | {oldTime:F1} ms | {newTime:F1} ms | {points:N0} |");
        }

        var oldLatest = await MedianAsync(runs, () => LegacyReadAsync(data.Api, LegacySql.Latest, device, to.AddDays(-1), to, null, "{}", 0));
        var newLatest = await MedianAsync(runs, () => query.LatestAsync(device, null, CancellationToken.None));
        Console.WriteLine($"| latest, 50 series (goal <= 10 ms) | {oldLatest:F1} ms | {newLatest:F1} ms | 50 |");
    }

    /// <summary>The v2 query rows (goals named), as query strings ending at <paramref name="to"/>.</summary>
    internal static (string Goal, string Query)[] V2Queries(DateTimeOffset to)
    {
        var day = $"from={Iso(to.AddDays(-1))}&to={Iso(to)}";
        var month = $"from={Iso(to.AddDays(-30))}&to={Iso(to)}";
        return
        [
            ("24 h, all 50 series, raw (goal <= 100 ms)", $"fn=raw&{day}"),
            ("24 h, all 50 series, step 5m avg/min/max", $"step=5m&{day}"),
            ("24 h, all 50 series, rate step 60 s", $"fn=rate&step=60&{day}"),
            ("30 d, one series, step 1h avg (goal <= 30 ms)", $"name=cpu_load_percent&labels[cpu]=1&fn=avg&step=1h&{month}"),
            ("30 d, one counter, rate step 1h", $"name=if_in_octets_total&labels[interface]=eth1&fn=rate&step=1h&{month}"),
        ];
    }

    internal static IEnumerable<KeyValuePair<string, string?>> MetricsQueryString(string query) =>
        query.Split('&').Select(p => p.Split('=', 2)).Select(p => new KeyValuePair<string, string?>(p[0], p[1]));

    private static string Iso(DateTimeOffset t) => t.ToString("O", CultureInfo.InvariantCulture);

    private static async Task<double> MedianAsync(int runs, Func<Task> action)
    {
        await action();
        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            await action();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        return times.Order().ElementAt(times.Count / 2);
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "LegacySql constants.")]
    private static async Task LegacyReadAsync(NpgsqlDataSource api, string sql, long device, DateTimeOffset from, DateTimeOffset to, string? name, string labels, int step)
    {
        await using var command = api.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter { Value = device });
        command.Parameters.Add(new NpgsqlParameter { Value = from.UtcDateTime });
        if (sql != LegacySql.Latest)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = to.UtcDateTime });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)name ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = labels, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            if (step > 0)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = (double)step });
            }
        }

        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            for (var c = 0; c < reader.FieldCount; c++)
            {
                _ = reader.GetValue(c);
            }
        }
    }

    /// <summary>Samples (rows of <paramref name="countIn"/>, default the table) and bytes (heap, TOAST and indexes) of a table and all its partitions.</summary>
    private static async Task<(long Rows, long Bytes)> BytesAsync(NpgsqlDataSource api, string table, string? countIn = null)
    {
        await using var command = api.CreateCommand("""
            SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
            FROM pg_class c
            WHERE c.oid = $1::regclass OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = $1::regclass)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = table });
        var bytes = (long)(await command.ExecuteScalarAsync())!;
        await using var count = api.CreateCommand($"SELECT count(*) FROM {countIn ?? table}");
        return ((long)(await count.ExecuteScalarAsync())!, bytes);
    }

    /// <summary>The old hot layout (050: one row per sample, its two indexes) filled with the samples since <paramref name="since"/>, in time order.</summary>
    private static async Task<(long Rows, long Bytes)> Hot050BytesAsync(NpgsqlDataSource api, DateTimeOffset since)
    {
        await ExecAsync(api, IngestBench.Hot050Table);
        await using var fill = api.CreateCommand("INSERT INTO bench_hot_050 SELECT device_id, series_id, ts, value FROM metric_samples WHERE ts >= $1 ORDER BY ts, device_id, series_id");
        fill.Parameters.Add(new NpgsqlParameter { Value = since.UtcDateTime });
        fill.CommandTimeout = 0;
        await fill.ExecuteNonQueryAsync();
        await ExecAsync(api, "VACUUM ANALYZE bench_hot_050");
        var size = await BytesAsync(api, "bench_hot_050");
        await ExecAsync(api, "DROP TABLE bench_hot_050");
        return size;
    }

    /// <summary>The measured alternative: the same windows as PostgreSQL arrays in a TOASTed, lz4-compressed row.</summary>
    private static async Task<(long Rows, long Bytes)> ArrayBlocksBytesAsync(NpgsqlDataSource api, TimeSpan window)
    {
        await ExecAsync(api, """
            CREATE TABLE bench_array_blocks (
                device_id bigint NOT NULL, series_id bigint NOT NULL, window_start timestamptz NOT NULL,
                ts timestamptz[] NOT NULL, value double precision[] NOT NULL,
                PRIMARY KEY (device_id, series_id, window_start)
            ) WITH (toast_tuple_target = 128);
            ALTER TABLE bench_array_blocks ALTER COLUMN ts SET COMPRESSION lz4, ALTER COLUMN value SET COMPRESSION lz4;
            """);
        await using var fill = api.CreateCommand("""
            INSERT INTO bench_array_blocks
            SELECT device_id, series_id, date_bin($1, ts, timestamptz '2000-01-03 00:00:00+00'), array_agg(ts ORDER BY ts), array_agg(value ORDER BY ts)
            FROM metric_samples GROUP BY 1, 2, 3
            """);
        fill.Parameters.Add(new NpgsqlParameter { Value = window });
        fill.CommandTimeout = 0;
        await fill.ExecuteNonQueryAsync();
        await ExecAsync(api, "VACUUM ANALYZE bench_array_blocks");
        var size = await BytesAsync(api, "bench_array_blocks");
        await ExecAsync(api, "DROP TABLE bench_array_blocks");
        return size;
    }

    /// <summary>
    /// One rollup tier after compaction: its encoded spans and the open span's plain rows as stored, and
    /// the same buckets laid out as plain rows (every bucket decoded back into a copy of the plain table)
    /// and as one row of lz4-compressed arrays per span, for comparison on the same data.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "The tier's table names.")]
    private static async Task<RollupLayouts> RollupLayoutsAsync(NpgsqlDataSource api, MetricsRollupTier tier)
    {
        var encoded = await BytesAsync(api, tier.Encoded);
        var openPlain = await BytesAsync(api, tier.Plain);
        await ExecAsync(api, tier.Sql("""
            CREATE TABLE bench_rollups_plain (LIKE {0} INCLUDING DEFAULTS INCLUDING CONSTRAINTS, PRIMARY KEY (device_id, series_id, bucket));
            INSERT INTO bench_rollups_plain SELECT * FROM {0}
            """));
        long encodedBuckets = 0;
        await using (var copyConnection = await api.OpenConnectionAsync())
        await using (var readConnection = await api.OpenConnectionAsync())
        {
            await using var read = new NpgsqlCommand($"SELECT device_id, series_id, data FROM {tier.Encoded} ORDER BY 1, 2, span_start", readConnection);
            await using var reader = await read.ExecuteReaderAsync();
            await using var copy = await copyConnection.BeginBinaryImportAsync(
                "COPY bench_rollups_plain (device_id, series_id, bucket, sample_count, min, max, sum, last, increase, increase_seconds) FROM STDIN (FORMAT BINARY)");
            while (await reader.ReadAsync())
            {
                foreach (var b in MetricsRollupCodec.Decode((byte[])reader.GetValue(2)))
                {
                    encodedBuckets++;
                    await copy.StartRowAsync();
                    await copy.WriteAsync(reader.GetInt64(0), NpgsqlTypes.NpgsqlDbType.Bigint);
                    await copy.WriteAsync(reader.GetInt64(1), NpgsqlTypes.NpgsqlDbType.Bigint);
                    await copy.WriteAsync(MetricsTime.FromMicros(b.Micros), NpgsqlTypes.NpgsqlDbType.TimestampTz);
                    await copy.WriteAsync((int)b.Count, NpgsqlTypes.NpgsqlDbType.Integer);
                    foreach (var v in new double?[] { b.Min, b.Max, b.Sum, b.Last, b.Increase, b.Seconds })
                    {
                        if (v is { } value)
                        {
                            await copy.WriteAsync(value, NpgsqlTypes.NpgsqlDbType.Double);
                        }
                        else
                        {
                            await copy.WriteNullAsync();
                        }
                    }
                }
            }

            await copy.CompleteAsync();
        }

        await ExecAsync(api, "VACUUM ANALYZE bench_rollups_plain");
        var plain = await BytesAsync(api, "bench_rollups_plain");
        await ExecAsync(api, """
            CREATE TABLE bench_rollup_arrays (
                device_id bigint NOT NULL, series_id bigint NOT NULL, span_start timestamptz NOT NULL,
                bucket timestamptz[] NOT NULL, sample_count integer[] NOT NULL, min float8[] NOT NULL, max float8[] NOT NULL,
                sum float8[] NOT NULL, last float8[] NOT NULL, increase float8[] NOT NULL, increase_seconds float8[] NOT NULL,
                PRIMARY KEY (device_id, series_id, span_start)
            ) WITH (toast_tuple_target = 128);
            ALTER TABLE bench_rollup_arrays ALTER COLUMN bucket SET COMPRESSION lz4, ALTER COLUMN sample_count SET COMPRESSION lz4,
                ALTER COLUMN min SET COMPRESSION lz4, ALTER COLUMN max SET COMPRESSION lz4, ALTER COLUMN sum SET COMPRESSION lz4,
                ALTER COLUMN last SET COMPRESSION lz4, ALTER COLUMN increase SET COMPRESSION lz4, ALTER COLUMN increase_seconds SET COMPRESSION lz4;
            """);
        await using (var fill = api.CreateCommand("""
            INSERT INTO bench_rollup_arrays
            SELECT device_id, series_id, date_bin($1, bucket, timestamptz '2000-01-03 00:00:00+00'),
                   array_agg(bucket ORDER BY bucket), array_agg(sample_count ORDER BY bucket), array_agg(min ORDER BY bucket), array_agg(max ORDER BY bucket),
                   array_agg(sum ORDER BY bucket), array_agg(last ORDER BY bucket), array_agg(increase ORDER BY bucket), array_agg(increase_seconds ORDER BY bucket)
            FROM bench_rollups_plain GROUP BY 1, 2, 3
            """))
        {
            fill.Parameters.Add(new NpgsqlParameter { Value = tier.Span });
            fill.CommandTimeout = 0;
            await fill.ExecuteNonQueryAsync();
        }

        await ExecAsync(api, "VACUUM ANALYZE bench_rollup_arrays");
        var arrays = await BytesAsync(api, "bench_rollup_arrays");
        await ExecAsync(api, "DROP TABLE bench_rollups_plain; DROP TABLE bench_rollup_arrays");
        return new RollupLayouts(plain, encoded, openPlain, arrays, encodedBuckets);
    }

    private sealed record RollupLayouts((long Rows, long Bytes) Plain, (long Rows, long Bytes) Encoded, (long Rows, long Bytes) OpenPlain, (long Rows, long Bytes) Arrays, long EncodedBuckets);

    private static async Task<TimeSpan> BackendCpuAsync(NpgsqlDataSource api, string applicationName)
    {
        await using var command = api.CreateCommand("SELECT pid FROM pg_stat_activity WHERE application_name = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = applicationName });
        var cpu = TimeSpan.Zero;
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            cpu += BenchSupport.ProcessCpu(reader.GetInt32(0));
        }

        return cpu;
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "Constants of this file.")]
    internal static async Task ExecAsync(NpgsqlDataSource api, string sql)
    {
        await using var command = api.CreateCommand(sql);
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// 50 series per device shaped like the snmp plugin's: 6 interfaces x 7 if_* metrics, 4 CPUs, 2 storage
    /// areas x size/used. Counters grow by a noisy rate, error counters rarely, gauges are noisy integers;
    /// one poll time per device and minute with up to 2 s of jitter. Both stores get exactly these values.
    /// </summary>
    private sealed record DataShape(int Devices, DateTimeOffset Start, int Interval, int Samples)
    {
        private const string Shape = """
            CREATE TEMP TABLE IF NOT EXISTS bench_shape AS
            SELECT row_number() OVER () AS no, name, labels::jsonb AS labels, kind
            FROM (
                SELECT m.name, json_build_object('interface', 'eth' || i, 'if_index', i::text)::text AS labels, m.kind
                FROM generate_series(1, 6) i,
                     (VALUES ('if_oper_status', 'status'), ('if_in_octets_total', 'octets'), ('if_out_octets_total', 'octets'),
                             ('if_in_errors_total', 'rare'), ('if_out_errors_total', 'rare'), ('if_in_discards_total', 'rare'), ('if_out_discards_total', 'rare')) AS m(name, kind)
                UNION ALL SELECT 'cpu_load_percent', json_build_object('cpu', c::text)::text, 'percent' FROM generate_series(1, 4) c
                UNION ALL SELECT n, json_build_object('storage', s::text)::text, CASE n WHEN 'storage_size_bytes' THEN 'constant' ELSE 'growing' END
                FROM generate_series(1, 2) s, (VALUES ('storage_size_bytes'), ('storage_used_bytes')) AS n(n)
            ) x
            """;

        // $1 start, $2 interval seconds, $3 first sample number, $4 devices, $5 sample number to stop before.
        // Time order, as polls arrive: k outermost and sorted.
        private const string SamplesSql = """
            SELECT d AS device_id, s.no, s.name, s.labels,
                   $1::timestamptz + make_interval(secs => k * $2 + (d * 7) % $2 + (abs(hashint8(d * 1000003 + k)) % 2000) / 1000.0) AS ts,
                   CASE s.kind
                       WHEN 'status' THEN 1
                       WHEN 'octets' THEN floor(k * $2 * 125000.0 * (1 + s.no % 6) + $2 * 62500.0 * (1 + s.no % 6) * (abs(hashint8(k * 31 + s.no + d * 977)) % 1000) / 1000.0)
                       WHEN 'rare' THEN floor(k / (400 + s.no))
                       WHEN 'percent' THEN abs(hashint8(k * 17 + s.no + d * 131)) % 100
                       WHEN 'constant' THEN 8589934592
                       ELSE 4294967296 + k * 4096
                   END::float8 AS value
            FROM generate_series($3, $5 - 1) k CROSS JOIN generate_series(1, $4) d CROSS JOIN bench_shape s
            ORDER BY k, d, s.no
            """;

        public async Task GenerateOldAsync(NpgsqlDataSource api)
        {
            await using (var devices = api.CreateCommand("""
                INSERT INTO devices (id, ip, port, plugin, poll_interval_seconds, created_at, updated_at)
                OVERRIDING SYSTEM VALUE
                SELECT d, ('10.0.0.0'::inet + d), 161, 'snmp', 60, now(), now() FROM generate_series(1, $1) d
                """))
            {
                devices.Parameters.Add(new NpgsqlParameter { Value = Devices });
                await devices.ExecuteNonQueryAsync();
            }

            for (var day = Start; day <= Start.AddSeconds((double)Samples * Interval); day = day.AddDays(1))
            {
                await using var partition = api.CreateCommand("SELECT nms_ensure_metrics_partition($1::date)");
                partition.Parameters.Add(new NpgsqlParameter { Value = day.UtcDateTime });
                await partition.ExecuteNonQueryAsync();
            }

            await RunAsync(api, Shape, $"INSERT INTO metrics (device_id, name, labels, value, ts) SELECT device_id, name, labels, value, ts FROM ({SamplesSql}) g");
        }

        public async Task GenerateNewAsync(NpgsqlDataSource api, MetricsPartitions partitions)
        {
            await partitions.EnsureAsync(partitions.Hot, Enumerable.Range(0, (int)Math.Ceiling((double)Samples * Interval / 86400) + 1).Select(i => Start.AddDays(i)), CancellationToken.None);
            await RunAsync(api, Shape + """
                ;
                INSERT INTO metric_series (device_id, name, labels, kind, counter_bits, first_seen_at, last_seen_at)
                SELECT d, s.name, s.labels, CASE WHEN s.name LIKE '%\_total' THEN 'counter' ELSE 'gauge' END, CASE WHEN s.name LIKE '%\_total' THEN 64 END, $1, $1
                FROM generate_series(1, $4) d CROSS JOIN bench_shape s
                ORDER BY 1, s.no
                """, $"""
                INSERT INTO metric_polls (device_id, ts, series_ids, series_values)
                SELECT g.device_id, g.ts, array_agg(m.id ORDER BY g.no), array_agg(g.value ORDER BY g.no)
                FROM ({SamplesSql}) g JOIN metric_series m ON m.device_id = g.device_id AND m.name = g.name AND m.labels = g.labels
                GROUP BY g.device_id, g.ts
                ORDER BY g.ts, g.device_id
                """);
        }

        /// <summary>Runs the setup statements once, then the insert once per day of samples (each sorted in memory).</summary>
        [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "Constants of this record.")]
        private async Task RunAsync(NpgsqlDataSource api, string setup, string insert)
        {
            await using var connection = await api.OpenConnectionAsync();
            await using (var memory = new NpgsqlCommand("SET work_mem = '256MB'", connection))
            {
                await memory.ExecuteNonQueryAsync();
            }

            foreach (var statement in setup.Split(";\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                await ExecuteAsync(connection, statement, 0, 0);
            }

            var perDay = 86400 / Interval;
            for (var k = 0; k < Samples; k += perDay)
            {
                await ExecuteAsync(connection, insert, k, Math.Min(Samples, k + perDay));
            }
        }

        [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "Constants of this record.")]
        private async Task ExecuteAsync(NpgsqlConnection connection, string sql, int from, int to)
        {
            await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
            if (sql.Contains("$1", StringComparison.Ordinal))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = Start.UtcDateTime });
                command.Parameters.Add(new NpgsqlParameter { Value = Interval });
                command.Parameters.Add(new NpgsqlParameter { Value = from });
                command.Parameters.Add(new NpgsqlParameter { Value = Devices });
                command.Parameters.Add(new NpgsqlParameter { Value = to });
            }

            await command.ExecuteNonQueryAsync();
        }
    }

    /// <summary>Today's store's API queries (core/Metrics/MetricsSql.cs before v2), plus the label filter it lacked.</summary>
    private static class LegacySql
    {
        public const string Raw = """
            SELECT name, labels::text, ts, value
            FROM metrics
            WHERE device_id = $1 AND ts >= $2 AND ts < $3 AND ($4::text IS NULL OR name = $4) AND labels @> $5::jsonb
            ORDER BY ts, name
            """;

        public const string Bucketed = """
            SELECT name, labels::text, date_bin(make_interval(secs => $6), ts, $2) AS bucket,
                   avg(value), min(value), max(value), count(*)
            FROM metrics
            WHERE device_id = $1 AND ts >= $2 AND ts < $3 AND ($4::text IS NULL OR name = $4) AND labels @> $5::jsonb
            GROUP BY name, labels, bucket
            ORDER BY bucket, name
            """;

        public const string Latest = """
            SELECT DISTINCT ON (name, labels) name, labels::text, ts, value
            FROM metrics
            WHERE device_id = $1 AND ts >= $2
            ORDER BY name, labels, ts DESC
            """;
    }

    /// <summary>The bench's "now": the end of the generated data.</summary>
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
