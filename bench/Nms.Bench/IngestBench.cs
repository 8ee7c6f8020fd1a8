using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Diagnostics;
using Nms.Core.Metrics;
using Nms.Core.Polling;
using Npgsql;
using NpgsqlTypes;

namespace Nms.Bench;

/// <summary>
/// <c>ingest</c>: the metrics writers' rows/s against <c>psql \copy</c> of the same rows, in the same run,
/// into the same (truncated) table. The writer gets batches the size the poller sends (split at 45 KB of JSON).
/// Options: --rows (default 500000), --concurrency (parallel writer calls, default 4,16: 16 is host.json's queue
/// batchSize, what one instance hands the writer at once under load; a list measures each), --rounds (3).
/// Today's writer runs beside v2's (--v2-only true: v2's alone; --json false: without the runs from the message's JSON).
/// --message grouped (default: the poller's form, <see cref="GroupedPoll"/>) or polls (one entry per sample within a poll, before).
/// </summary>
internal static class IngestBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = new BenchArgs(args);
        var rows = options.Int("rows", 500_000);
        var concurrencies = options.Get("concurrency", "4,16").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
        var rounds = options.Int("rounds", 3);
        var v2Only = options.Get("v2-only", "false") == "true";
        var fromJson = options.Get("json", "true") == "true";
        var messageForm = options.Get("message", "grouped");
        await using var db = await BenchDatabase.CreateAsync();
        var now = DateTimeOffset.UtcNow;
        var samples = Samples(rows, now);
        var maxJson = options.Int("max-json-bytes", QueueMessageSplitter.MaxJsonBytes);
        // Today's writer reads one entry per sample; v2's gets what the poller sends: one entry per device poll.
        var legacyBatches = QueueMessageSplitter.Split(samples, nameof(MetricsBatchMessage.Samples), maxJson).Select(part => new MetricsBatchMessage(part.BatchId, part.Items)).ToList();
        var polls = new MetricsBatchMessage(Guid.Empty, samples).AllPolls();
        var parts = messageForm == "polls"
            ? QueueMessageSplitter.Split(polls, nameof(MetricsBatchMessage.Polls), maxJson).Select(p => (p.BatchId, p.Json, Message: new MetricsBatchMessage(p.BatchId, null, p.Items))).ToList()
            : QueueMessageSplitter.Split(polls.Select(GroupedPoll.From), nameof(MetricsBatchMessage.GroupedPolls), maxJson)
                .Select(p => (p.BatchId, p.Json, Message: new MetricsBatchMessage(p.BatchId, null, GroupedPolls: p.Items))).ToList();
        var batches = parts.Select(part => part.Message).ToList();
        var jsons = parts.Select(part => part.Json).ToList();
        Console.WriteLine($"ingest: {rows:N0} rows; v2 writer: {batches.Count:N0} messages ({messageForm}) of ~{rows / batches.Count} samples ({polls.Count:N0} polls), today's writer: {legacyBatches.Count:N0} of ~{rows / legacyBatches.Count}; writer concurrency {string.Join(" and ", concurrencies)}, best of {rounds} interleaved rounds");

        await using var dataSource = NmsDataSources.Create(db.ConnectionString, db.ConnectionString);
        using var instruments = new NmsInstruments();
        var partitions = new MetricsPartitions(dataSource.Metrics, new MetricsOptions(), TimeProvider.System, NullLogger<MetricsPartitions>.Instance);
        await partitions.MaintainAsync(CancellationToken.None);
        await using (var old = dataSource.Api.CreateCommand("SELECT nms_ensure_metrics_partition($1::date)"))
        {
            old.Parameters.Add(new NpgsqlParameter { Value = now.UtcDateTime });
            await old.ExecuteNonQueryAsync();
        }

        var catalog = new MetricSeriesCatalog(dataSource.Metrics);
        var writer = new MetricsWriter(dataSource.Metrics, partitions, catalog, instruments, TimeProvider.System, NullLogger<MetricsWriter>.Instance);
        var legacyAsync = new LegacyWriter(dataSource.Metrics, synchronousRows: false);
        var legacySync = new LegacyWriter(dataSource.Metrics, synchronousRows: true);

        // Warm up the JIT, the pools and the series cache (the steady state: series are known).
        await TimeAsync(b => writer.WriteAsync(b, CancellationToken.None), Fresh(batches.Take(50)), 4);
        await TimeAsync(b => writer.WriteAsync(FromJson(b), CancellationToken.None), FreshJson(jsons.Take(50)), 4);
        await TimeAsync(legacyAsync.WriteAsync, Fresh(legacyBatches.Take(50)), 4);
        await TimeAsync(legacySync.WriteAsync, Fresh(legacyBatches.Take(50)), 4);
        var seriesIds = (await catalog.IdsAsync(polls, CancellationToken.None)).SelectMany(ids => ids).ToArray();

        var oldCsv = await CsvAsync(samples.Select(x => string.Create(CultureInfo.InvariantCulture,
            $"{x.DeviceId},{x.Name},\"{LabelsCsv(x)}\",{x.Value:R},{x.Ts.UtcDateTime:yyyy-MM-dd HH:mm:ss.ffffff}+00")));
        var hot050Csv = await CsvAsync(samples.Select((x, i) => string.Create(CultureInfo.InvariantCulture,
            $"{x.DeviceId},{seriesIds[i]},{x.Ts.UtcDateTime:yyyy-MM-dd HH:mm:ss.ffffff}+00,{x.Value:R}")));
        var newCsv = await CsvAsync(samples.Select((x, i) => (Sample: x, Id: seriesIds[i])).GroupBy(x => (x.Sample.DeviceId, x.Sample.Ts)).Select(poll => string.Create(CultureInfo.InvariantCulture,
            $"{poll.Key.DeviceId},{poll.Key.Ts.UtcDateTime:yyyy-MM-dd HH:mm:ss.ffffff}+00,\"{{{string.Join(',', poll.Select(x => x.Id))}}}\",\"{{{string.Join(',', poll.Select(x => x.Sample.Value.ToString("R", CultureInfo.InvariantCulture)))}}}\"")));
        await MetricsStoreBench.ExecAsync(dataSource.Api, Hot050Table);
        try
        {
            var runs = new Dictionary<string, List<TimeSpan>>();
            var busy = new Dictionary<string, List<double>>();
            var cpu = new Dictionary<string, List<PipelineCpu.Snapshot>>();
            var processes = new PipelineCpu(await PipelineCpu.PostmasterPidAsync(db.ConnectionString), azuritePid: null);
            async Task Measure(string name, Func<Task<TimeSpan>> run)
            {
                await TruncateAsync(dataSource);
                var meter = new CpuMeter();
                var before = processes.Take();
                var elapsed = await run();
                var used = processes.Take() - before;
                (runs.TryGetValue(name, out var l) ? l : runs[name] = []).Add(elapsed);
                (busy.TryGetValue(name, out var b) ? b : busy[name] = []).Add(meter.MachineBusy);
                (cpu.TryGetValue(name, out var c) ? c : cpu[name] = []).Add(used);
            }

            Console.WriteLine($"ingest: set up; measuring {rounds} rounds");
            // Each run's input (new batch ids) is made before its CPU is measured: making the JSON ones parses and writes every message.
            for (var round = 0; round < rounds; round++)
            {
                if (!v2Only)
                {
                    await Measure("old raw", () => TimeRawCopyAsync(db.ConnectionString, oldCsv, "metrics (device_id, name, labels, value, ts)"));
                    await Measure("050 raw", () => TimeRawCopyAsync(db.ConnectionString, hot050Csv, "bench_hot_050 (device_id, series_id, ts, value)"));
                }

                await Measure("new raw", () => TimeRawCopyAsync(db.ConnectionString, newCsv, "metric_polls (device_id, ts, series_ids, series_values)"));
                foreach (var c in concurrencies)
                {
                    if (!v2Only)
                    {
                        var legacyAsyncInput = Fresh(legacyBatches);
                        await Measure($"old async {c}", () => TimeAsync(legacyAsync.WriteAsync, legacyAsyncInput, c));
                        var legacySyncInput = Fresh(legacyBatches);
                        await Measure($"old sync {c}", () => TimeAsync(legacySync.WriteAsync, legacySyncInput, c));
                    }

                    var writerInput = Fresh(batches);
                    await Measure($"new writer {c}", () => TimeAsync(b => writer.WriteAsync(b, CancellationToken.None), writerInput, c));
                    await CheckCountAsync(dataSource, "metric_samples", rows);
                    if (fromJson)
                    {
                        var jsonInput = FreshJson(jsons);
                        await Measure($"new json {c}", () => TimeAsync(b => writer.WriteAsync(FromJson(b), CancellationToken.None), jsonInput, c));
                        await CheckCountAsync(dataSource, "metric_samples", rows);
                    }
                }
            }

            double Rate(string name) => rows / runs[name].Min().TotalSeconds;
            // Per million rows, the mean over the runs: CPU does not depend on how busy the rest of the machine is the way wall time does.
            string CpuPerMillion(string name, Func<PipelineCpu.Snapshot, TimeSpan> part) =>
                (cpu[name].Average(c => part(c).TotalSeconds) * 1_000_000 / rows).ToString("F2", CultureInfo.InvariantCulture);
            void Line(string label, string name, string? against = null) => Console.WriteLine(
                $"| {label} | {Rate(name):N0} rows/s | {(against is null ? "" : $"{Rate(name) / Rate(against):P0}")} | {string.Join(", ", runs[name].Select(r => r.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture)))} s | {busy[name].Average():P0} " +
                $"| {CpuPerMillion(name, c => c.App.Cpu + c.Plugins.Cpu)} s | {CpuPerMillion(name, c => c.Postgres.Cpu)} s |");
            Console.WriteLine("| into | rows/s (best) | of raw COPY | runs | machine busy (both cores, every process) | CPU per million rows: client (this process; psql for raw COPY) | PostgreSQL |");
            Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
            if (!v2Only)
            {
                Line("today's `metrics`: psql \\copy", "old raw");
                foreach (var c in concurrencies)
                {
                    Line($"today's writer, {c} at once (async row writes, as on main)", $"old async {c}", "old raw");
                    Line($"today's writer, {c} at once, synchronous row writes (as in 2838a75)", $"old sync {c}", "old raw");
                }

                Line("050's hot table (one row per sample, its two indexes): psql \\copy", "050 raw");
            }

            Line("v2 `metric_polls` (one row per poll, 052): psql \\copy", "new raw");
            foreach (var c in concurrencies)
            {
                Line($"v2 writer, {c} at once (series ids cached)", $"new writer {c}", "new raw");
                if (fromJson)
                {
                    Line($"v2 writer, {c} at once, from the queue message's JSON (parse + write)", $"new json {c}", "new raw");
                }
            }
        }
        finally
        {
            File.Delete(oldCsv);
            File.Delete(newCsv);
            File.Delete(hot050Csv);
        }

        return 0;
    }

    /// <summary>The hot table as 050 made it (one row per sample), to COPY the same samples into beside 052's.</summary>
    internal const string Hot050Table = """
        CREATE TABLE bench_hot_050 (device_id bigint NOT NULL, series_id bigint NOT NULL, ts timestamptz NOT NULL, value double precision NOT NULL);
        CREATE INDEX ON bench_hot_050 (device_id, series_id, ts);
        CREATE INDEX ON bench_hot_050 USING brin (ts);
        """;

    private static List<MetricsBatchMessage> Fresh(IEnumerable<MetricsBatchMessage> batches) => batches.Select(b => b with { BatchId = Guid.NewGuid() }).ToList();

    /// <summary>The messages' JSON, each with a new batch id, as the queue would deliver them.</summary>
    private static List<byte[]> FreshJson(IEnumerable<BinaryData> jsons) =>
        jsons.Select(json => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(
            System.Text.Json.JsonSerializer.Deserialize<MetricsBatchMessage>(json, NmsJson.Queue)! with { BatchId = Guid.NewGuid() }, NmsJson.Queue)).ToList();

    /// <summary>What the queue trigger's binding does before the writer runs: the message's JSON parsed with the queue's options.</summary>
    private static MetricsBatchMessage FromJson(byte[] json) => System.Text.Json.JsonSerializer.Deserialize<MetricsBatchMessage>(json, NmsJson.Queue)!;

    private static string LabelsCsv(MetricSample sample) =>
        (sample.Labels is null ? "{}" : System.Text.Json.JsonSerializer.Serialize(sample.Labels)).Replace("\"", "\"\"", StringComparison.Ordinal);

    private static async Task<string> CsvAsync(IEnumerable<string> lines)
    {
        var path = Path.Combine(Path.GetTempPath(), $"nms-ingest-{Guid.NewGuid():N}.csv");
        await File.WriteAllLinesAsync(path, lines, new UTF8Encoding(false));
        return path;
    }

    internal static List<MetricSample> Samples(int rows, DateTimeOffset now)
    {
        // Like the snmp plugin's output: per device, 7 interface counters x 4 interfaces, CPU and storage.
        var names = new[] { "if_oper_status", "if_in_octets_total", "if_out_octets_total", "if_in_errors_total", "if_out_errors_total", "if_in_discards_total", "if_out_discards_total" };
        var samples = new List<MetricSample>(rows);
        var device = 0;
        while (samples.Count < rows)
        {
            device++;
            var ts = now.AddMilliseconds(device);
            for (var i = 1; i <= 4 && samples.Count < rows; i++)
            {
                var labels = new Dictionary<string, string> { ["interface"] = $"eth{i}", ["if_index"] = i.ToString(CultureInfo.InvariantCulture) };
                foreach (var name in names)
                {
                    if (samples.Count < rows)
                    {
                        samples.Add(new MetricSample(device, name, device * 1000.0 + i, labels, ts));
                    }
                }
            }

            if (samples.Count < rows)
            {
                samples.Add(new MetricSample(device, "cpu_load_percent", device % 100, new Dictionary<string, string> { ["cpu"] = "196608" }, ts));
            }
        }

        return samples;
    }

    private static async Task<TimeSpan> TimeRawCopyAsync(string connectionString, string csv, string target)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var info = new ProcessStartInfo("psql") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { "-h", builder.Host!, "-p", builder.Port.ToString(CultureInfo.InvariantCulture), "-U", builder.Username!, "-d", builder.Database!, "-v", "ON_ERROR_STOP=1",
                     "-c", $"\\copy {target} FROM '{csv}' WITH (FORMAT csv)" })
        {
            info.ArgumentList.Add(arg);
        }

        if (!string.IsNullOrEmpty(builder.Password))
        {
            info.Environment["PGPASSWORD"] = builder.Password;
        }

        var watch = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        watch.Stop();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException("psql \\copy failed: " + error);
        }

        return watch.Elapsed;
    }

    private static async Task<TimeSpan> TimeAsync<T>(Func<T, Task<int>> write, IReadOnlyList<T> batches, int concurrency)
    {
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (batch, ct) => await write(batch));
        return watch.Elapsed;
    }

    private static async Task TruncateAsync(NmsDataSources data)
    {
        await using var command = data.Api.CreateCommand("TRUNCATE metrics, metric_polls, metric_batches, bench_hot_050");
        await command.ExecuteNonQueryAsync();
        await using var vacuum = data.Api.CreateCommand("CHECKPOINT");
        await vacuum.ExecuteNonQueryAsync();
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "A table name of this file.")]
    private static async Task CheckCountAsync(NmsDataSources data, string table, int rows)
    {
        await using var command = data.Api.CreateCommand($"SELECT count(*) FROM {table}");
        var count = (long)(await command.ExecuteScalarAsync())!;
        if (count != rows)
        {
            throw new InvalidOperationException($"the writer wrote {count} rows, expected {rows}");
        }
    }

    /// <summary>
    /// Today's writer (before v2), kept here so one run compares it with v2: claim the batch id, COPY
    /// (device_id, name, labels jsonb, value, ts) into <c>metrics</c>. Row writes async (as on main since
    /// 0239422) or synchronous (as in 2838a75, which README's 84% measured).
    /// </summary>
    private sealed class LegacyWriter(NpgsqlDataSource dataSource, bool synchronousRows)
    {
        public async Task<int> WriteAsync(MetricsBatchMessage batch)
        {
            await using var connection = await dataSource.OpenConnectionAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var claim = new NpgsqlCommand("INSERT INTO metric_batches (batch_id, row_count, written_at) VALUES ($1, $2, now()) ON CONFLICT (batch_id) DO NOTHING", connection, transaction))
            {
                claim.Parameters.Add(new NpgsqlParameter { Value = batch.BatchId });
                claim.Parameters.Add(new NpgsqlParameter { Value = batch.Samples!.Count });
                if (await claim.ExecuteNonQueryAsync() == 0)
                {
                    return 0;
                }
            }

            await using (var importer = await connection.BeginBinaryImportAsync("COPY metrics (device_id, name, labels, value, ts) FROM STDIN (FORMAT BINARY)"))
            {
                foreach (var sample in batch.Samples!)
                {
                    var labels = MetricSeriesCatalog.LabelsToJson(sample.Labels);
                    if (synchronousRows)
                    {
                        importer.StartRow();
                        importer.Write(sample.DeviceId, NpgsqlDbType.Bigint);
                        importer.Write(sample.Name, NpgsqlDbType.Text);
                        importer.Write(labels, NpgsqlDbType.Jsonb);
                        importer.Write(sample.Value, NpgsqlDbType.Double);
                        importer.Write(sample.Ts.UtcDateTime, NpgsqlDbType.TimestampTz);
                    }
                    else
                    {
                        await importer.StartRowAsync();
                        await importer.WriteAsync(sample.DeviceId, NpgsqlDbType.Bigint);
                        await importer.WriteAsync(sample.Name, NpgsqlDbType.Text);
                        await importer.WriteAsync(labels, NpgsqlDbType.Jsonb);
                        await importer.WriteAsync(sample.Value, NpgsqlDbType.Double);
                        await importer.WriteAsync(sample.Ts.UtcDateTime, NpgsqlDbType.TimestampTz);
                    }
                }

                await importer.CompleteAsync();
            }

            await transaction.CommitAsync();
            return batch.Samples!.Count;
        }
    }
}
