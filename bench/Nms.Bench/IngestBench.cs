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

namespace Nms.Bench;

/// <summary>
/// <c>ingest</c>: the metrics writer's rows/s against <c>psql \copy</c> of the same rows, in the same run,
/// into the same (truncated) table. The writer gets batches the size the poller sends (split at 45 KB of JSON).
/// Options: --rows (default 500000), --concurrency (parallel writer calls, default 4 = the local host's queue batch).
/// </summary>
internal static class IngestBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = new BenchArgs(args);
        var rows = options.Int("rows", 500_000);
        var concurrency = options.Int("concurrency", 4);
        await using var db = await BenchDatabase.CreateAsync();
        var now = DateTimeOffset.UtcNow;
        var samples = Samples(rows, now);
        var batches = QueueMessageSplitter.Split(samples, nameof(MetricsBatchMessage.Samples), options.Int("max-json-bytes", QueueMessageSplitter.MaxJsonBytes)).Select(part => new MetricsBatchMessage(part.BatchId, part.Items)).ToList();
        Console.WriteLine($"ingest: {rows:N0} rows in {batches.Count:N0} batches of ~{rows / batches.Count} rows, writer concurrency {concurrency}");

        await using var dataSource = NmsDataSources.Create(db.ConnectionString, db.ConnectionString);
        using var instruments = new NmsInstruments();
        var partitions = new MetricsPartitions(dataSource.Metrics, new MetricsOptions(), TimeProvider.System, NullLogger<MetricsPartitions>.Instance);
        await partitions.MaintainAsync(CancellationToken.None);
        var writer = new MetricsWriter(dataSource.Metrics, partitions, instruments, TimeProvider.System, NullLogger<MetricsWriter>.Instance);

        // Raw COPY first, then the writer, each into an emptied table, then raw again to see drift.
        var csv = Path.Combine(Path.GetTempPath(), $"nms-ingest-{Guid.NewGuid():N}.csv");
        await WriteCsvAsync(csv, samples);
        try
        {
            // Warm up the JIT and the pools on a slice of the batches (their ids are then taken: use copies).
            await TimeWriterAsync(writer, batches.Take(50).Select(b => b with { BatchId = Guid.NewGuid() }).ToList(), concurrency);

            // Interleaved rounds, best of each: the machine is shared, so single runs are noisy.
            var rounds = options.Int("rounds", 3);
            var raws = new List<TimeSpan>();
            var writes = new List<TimeSpan>();
            for (var round = 0; round < rounds; round++)
            {
                await TruncateAsync(dataSource);
                raws.Add(await TimeRawCopyAsync(db.ConnectionString, csv));
                await TruncateAsync(dataSource);
                writes.Add(await TimeWriterAsync(writer, batches, concurrency));
                await CheckCountAsync(dataSource, rows);
            }

            var raw = raws.Min();
            var writerTime = writes.Min();
            var rawRate = rows / raw.TotalSeconds;
            var writerRate = rows / writerTime.TotalSeconds;
            Console.WriteLine($"psql \\copy (best of {rounds}): {raw.TotalSeconds:F2} s = {rawRate:N0} rows/s (runs: {string.Join(", ", raws.Select(r => r.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture)))} s)");
            Console.WriteLine($"metrics writer (best of {rounds}): {writerTime.TotalSeconds:F2} s = {writerRate:N0} rows/s (runs: {string.Join(", ", writes.Select(r => r.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture)))} s)");
            Console.WriteLine($"writer / raw COPY: {writerRate / rawRate:P0}");
        }
        finally
        {
            File.Delete(csv);
        }

        return 0;
    }

    private static List<MetricSample> Samples(int rows, DateTimeOffset now)
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

    private static async Task WriteCsvAsync(string path, IReadOnlyList<MetricSample> samples)
    {
        await using var file = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        foreach (var s in samples)
        {
            var labels = s.Labels is null ? "{}" : System.Text.Json.JsonSerializer.Serialize(s.Labels);
            await file.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{s.DeviceId},{s.Name},\"{labels.Replace("\"", "\"\"", StringComparison.Ordinal)}\",{s.Value:R},{s.Ts.UtcDateTime:yyyy-MM-dd HH:mm:ss.ffffff}+00"));
        }
    }

    private static async Task<TimeSpan> TimeRawCopyAsync(string connectionString, string csv)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var info = new ProcessStartInfo("psql") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { "-h", builder.Host!, "-p", builder.Port.ToString(CultureInfo.InvariantCulture), "-U", builder.Username!, "-d", builder.Database!, "-v", "ON_ERROR_STOP=1",
                     "-c", $"\\copy metrics (device_id, name, labels, value, ts) FROM '{csv}' WITH (FORMAT csv)" })
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

    private static async Task<TimeSpan> TimeWriterAsync(MetricsWriter writer, IReadOnlyList<MetricsBatchMessage> batches, int concurrency)
    {
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (batch, ct) => await writer.WriteAsync(batch, ct));
        return watch.Elapsed;
    }

    private static async Task TruncateAsync(NmsDataSources data)
    {
        await using var command = data.Api.CreateCommand("TRUNCATE metrics, metric_batches");
        await command.ExecuteNonQueryAsync();
        await using var vacuum = data.Api.CreateCommand("CHECKPOINT");
        await vacuum.ExecuteNonQueryAsync();
    }

    private static async Task CheckCountAsync(NmsDataSources data, int rows)
    {
        await using var command = data.Api.CreateCommand("SELECT count(*) FROM metrics");
        var count = (long)(await command.ExecuteScalarAsync())!;
        if (count != rows)
        {
            throw new InvalidOperationException($"the writer wrote {count} rows, expected {rows}");
        }
    }
}
