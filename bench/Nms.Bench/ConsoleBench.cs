using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Devices;
using Nms.Core.Metrics;
using Nms.Functions.LocalHost;
using Nms.Functions.OperatorConsole;
using Npgsql;

namespace Nms.Bench;

/// <summary>
/// <c>./nms bench console [--devices 100000] [--days 30] [--interfaces 48] [--runs 5] [--baseline &lt;git ref&gt;]</c>:
/// the operator console in Debian's headless Chromium against the real app on the local host, timed
/// with the page's own Performance API marks (milliseconds since navigation start):
/// the devices page's first render with <c>--devices</c> devices, and the device page's charts for
/// the 24 h and 30 d ranges of a device with <c>--interfaces</c> interfaces and <c>--days</c> of
/// metrics at 60 s, in metrics store v2 as production fills it: written through the metrics writer
/// (COPY into the hot table), then compacted by the real <see cref="MetricsCompactor"/> into blocks
/// and 5-minute/1-hour rollups (the newest 3 h stay hot). Medians of <c>--runs</c> fresh page loads,
/// plus one load's API waterfall (Resource Timing: start, time to first byte, bytes).
/// <c>--baseline</c> builds that commit's console/ and serves it from a second host on the same
/// database, measured alternately with this checkout's: old and new console back to back in one run.
/// Services as the other benches: NMS_TEST_PG_ADMIN and NMS_TEST_AZURITE, or ./nms start's.
/// </summary>
public static class ConsoleBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var devices = BenchSupport.IntOption(args, "--devices", 100_000);
        var days = BenchSupport.IntOption(args, "--days", 30);
        var interfaces = BenchSupport.IntOption(args, "--interfaces", 48);
        var runs = BenchSupport.IntOption(args, "--runs", 5);
        var baseline = BenchSupport.StringOption(args, "--baseline");
        var (pg, azurite) = BenchSupport.Services();
        var database = "nms_bench_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5));
        await BenchSupport.ExecuteAdminAsync(pg, $"CREATE DATABASE {database}");
        try
        {
            var connection = new NpgsqlConnectionStringBuilder(pg) { Database = database, MaxPoolSize = 20 }.ConnectionString;
            var adminKey = "bench_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            var port = BenchSupport.FreeTcpPort();
            await using var app = await StartAppAsync(connection, azurite, adminKey, port, consoleDirectory: null);
            var db = app.Services.GetRequiredService<NmsDataSources>().Api;

            Console.WriteLine($"console bench: {devices:N0} devices, one with {interfaces} interfaces and {days} days of metrics at 60 s, {runs} runs each, {Environment.ProcessorCount} cores");
            await SeedDevicesAsync(db, devices);
            var device = (await CreateDeviceAsync(db)).DeviceId;
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var samples = await SeedMetricsAsync(app.Services.GetRequiredService<MetricsWriter>(), device, interfaces, days);
            Console.WriteLine($"seeded {devices:N0} devices and wrote {samples:N0} samples for device {device} through the metrics writer in {watch.Elapsed.TotalSeconds:F0} s");
            watch.Restart();
            var compacted = await app.Services.GetRequiredService<MetricsCompactor>().CompactAsync(CancellationToken.None);
            await ExecuteAsync(db, "VACUUM ANALYZE");
            Console.WriteLine($"compacted {compacted.Samples:N0} samples into {compacted.Blocks:N0} blocks ({compacted.Windows} windows) in {watch.Elapsed.TotalSeconds:F0} s; {await TiersAsync(db)}");

            var consoles = new List<(string Name, string Url)> { ("this checkout", $"http://127.0.0.1:{port}/api/console/") };
            await using var old = baseline is null ? null : await StartAppAsync(connection, azurite, adminKey, BenchSupport.FreeTcpPort(), await BuildBaselineConsoleAsync(baseline));
            if (old is not null)
            {
                consoles.Insert(0, ($"console of {baseline}", old.Urls.First() + "/api/console/"));
            }

            Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = "/usr/bin/chromium",
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            });
            var pages = new List<(string Page, string Path, string Mark, string Measure)> { ($"devices ({devices:N0})", "#/devices", "nms:devices:rendered", "nms:devices:page") };
            pages.AddRange(new[] { "24h", "30d" }.Select(range => ($"device {range} ({interfaces} interfaces)", $"#/devices/{device}?range={range}", "nms:device:charts-drawn", $"nms:device:charts:{range}")));
            var results = new Dictionary<(string Console, string Page), Timings>();
            for (var run = 0; run < runs; run++)
            {
                foreach (var (page, path, mark, measure) in pages)
                {
                    foreach (var (name, url) in consoles)
                    {
                        var timings = results.TryGetValue((name, page), out var t) ? t : results[(name, page)] = new Timings();
                        await MeasureAsync(browser, adminKey, url + path, mark, measure, timings, waterfall: run == runs - 1);
                    }
                }
            }

            Console.WriteLine();
            Console.WriteLine($"medians of {runs} fresh loads (min-max); ms since navigation start:");
            Console.WriteLine("| page | console | mark after navigation start | measure (API + draw) | of which uPlot draw | API requests | API bytes |");
            Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
            foreach (var (page, _, mark, measure) in pages)
            {
                foreach (var (name, _) in consoles)
                {
                    var t = results[(name, page)];
                    Console.WriteLine($"| {page} | {name} | {mark}: {Median(t.Marks)} | {measure}: {Median(t.Measures)} | {(t.Draws.Max() < 0 ? "–" : Median(t.Draws))} | {t.Waterfall.Count} | {t.Waterfall.Sum(r => r.Bytes) / 1024.0:N0} KiB |");
                }
            }

            foreach (var ((name, page), t) in results)
            {
                Console.WriteLine();
                Console.WriteLine($"API waterfall of the last load, {page}, {name} (ms since navigation start; ttfb = request sent to first byte, the server's time on loopback):");
                Console.WriteLine("| request | start | ttfb | end | bytes |");
                Console.WriteLine("| --- | --- | --- | --- | --- |");
                foreach (var r in t.Waterfall.OrderBy(r => r.Start))
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Name} | {r.Start:F0} | {r.Ttfb:F0} | {r.End:F0} | {r.Bytes:N0} |"));
                }
            }

            await app.StopAsync();
            if (old is not null)
            {
                await old.StopAsync();
            }

            return 0;
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await BenchSupport.ExecuteAdminAsync(pg, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
        }
    }

    private sealed class Timings
    {
        public List<double> Marks { get; } = [];

        public List<double> Measures { get; } = [];

        public List<double> Draws { get; } = [];

        public List<ApiRequest> Waterfall { get; set; } = [];
    }

    private sealed record ApiRequest(string Name, double Start, double Ttfb, double End, long Bytes);

    /// <summary>
    /// A fresh context (nothing cached), the key put in sessionStorage before the page's own script
    /// runs; records when <paramref name="mark"/> fired after navigation start, how long the page's
    /// <paramref name="measure"/> (API calls + drawing) took, and the API requests made until then.
    /// </summary>
    private static async Task MeasureAsync(IBrowser browser, string key, string url, string mark, string measure, Timings timings, bool waterfall)
    {
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        await context.AddInitScriptAsync($"sessionStorage.setItem('nms.apiKey', {System.Text.Json.JsonSerializer.Serialize(key)}); performance.setResourceTimingBufferSize(1000);");
        var tab = await context.NewPageAsync();
        await tab.GotoAsync(url);
        await tab.WaitForFunctionAsync($"() => performance.getEntriesByName('{mark}').length > 0", null, new PageWaitForFunctionOptions { Timeout = 120_000 });
        timings.Marks.Add(await tab.EvaluateAsync<double>($"() => performance.getEntriesByName('{mark}')[0].startTime"));
        timings.Measures.Add(await tab.EvaluateAsync<double>($"() => performance.getEntriesByName('{measure}')[0].duration"));
        var draw = measure.Contains(":charts:", StringComparison.Ordinal) ? measure.Replace(":charts:", ":draw:", StringComparison.Ordinal) : "none";
        timings.Draws.Add(await tab.EvaluateAsync<double>($"() => performance.getEntriesByName('{draw}')[0]?.duration ?? -1"));
        if (waterfall)
        {
            var entries = await tab.EvaluateAsync<System.Text.Json.JsonElement>($$"""
                () => {
                  const until = performance.getEntriesByName('{{mark}}')[0].startTime;
                  return performance.getEntriesByType('resource')
                    .filter((e) => e.name.includes('/api/') && !e.name.includes('/api/console/') && e.startTime <= until)
                    .map((e) => ({ name: decodeURIComponent(new URL(e.name).pathname.replace(/.*\/api\//, '') + new URL(e.name).search), start: e.startTime, ttfb: e.responseStart - e.requestStart, end: e.responseEnd, bytes: e.encodedBodySize }));
                }
                """);
            timings.Waterfall = entries.EnumerateArray()
                .Select(e => new ApiRequest(Shorten(e.GetProperty("name").GetString()!), e.GetProperty("start").GetDouble(), e.GetProperty("ttfb").GetDouble(), e.GetProperty("end").GetDouble(), e.GetProperty("bytes").GetInt64()))
                .ToList();
        }
    }

    /// <summary>A request's path and query without the from/to timestamps, for the waterfall table.</summary>
    private static string Shorten(string name) =>
        System.Text.RegularExpressions.Regex.Replace(name, "&?(from|to|since)=[^&]*", "").Replace("?&", "?", StringComparison.Ordinal).Replace("|", "\\|", StringComparison.Ordinal);

    private static string Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return string.Create(CultureInfo.InvariantCulture, $"{sorted[sorted.Count / 2]:F0} ms ({sorted[0]:F0}-{sorted[^1]:F0})");
    }

    /// <summary>Rows per v2 tier after compaction.</summary>
    private static async Task<string> TiersAsync(NpgsqlDataSource db)
    {
        var parts = new List<string>();
        foreach (var table in new[] { "metric_samples", "metric_blocks", "metric_rollups_5m", "metric_rollups_1h" })
        {
            await using var count = db.CreateCommand($"SELECT count(*) FROM {table}");
            parts.Add($"{table} {(long)(await count.ExecuteScalarAsync())!:N0} rows");
        }

        return string.Join(", ", parts);
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "Constants of this file.")]
    private static async Task ExecuteAsync(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// The console as it was at <paramref name="gitRef"/>: that commit's console/ sources, built with
    /// this checkout's node_modules (the same package-lock), into a temporary folder.
    /// </summary>
    private static async Task<string> BuildBaselineConsoleAsync(string gitRef)
    {
        var source = Path.Combine(Path.GetTempPath(), $"nms-bench-console-{gitRef}-{Environment.ProcessId}");
        Directory.CreateDirectory(source);
        var archive = Path.Combine(source, "console.tar");
        var git = await BenchSupport.RunAsync("/usr/bin/git", ["-C", BenchSupport.RepositoryRoot, "archive", "-o", archive, gitRef, "console"], null, CancellationToken.None);
        var tar = git.ExitCode == 0 ? await BenchSupport.RunAsync("/usr/bin/tar", ["-xf", archive, "-C", source], null, CancellationToken.None) : git;
        if (tar.ExitCode != 0)
        {
            throw new InvalidOperationException($"cannot check out console/ of {gitRef}: {git.Stderr}{tar.Stderr}");
        }

        var console = Path.Combine(source, "console");
        File.CreateSymbolicLink(Path.Combine(console, "node_modules"), Path.Combine(BenchSupport.RepositoryRoot, "console", "node_modules"));
        var build = await BenchSupport.RunAsync("node", ["build.mjs"], null, CancellationToken.None, workingDirectory: console);
        return build.ExitCode == 0 ? Path.Combine(console, "dist") : throw new InvalidOperationException($"building the console of {gitRef} failed: {build.Stdout}{build.Stderr}");
    }

    /// <summary>The app with its timers off; <paramref name="consoleDirectory"/> serves another build of the console.</summary>
    private static async Task<Microsoft.AspNetCore.Builder.WebApplication> StartAppAsync(string connection, string azurite, string adminKey, int port, string? consoleDirectory)
    {
        var host = new LocalHostOptions
        {
            Urls = $"http://127.0.0.1:{port}",
            LocalSettingsPath = Path.Combine(Path.GetTempPath(), "nms-bench-none.json"),
            ConfigureLogging = logging => logging.SetMinimumLevel(LogLevel.Warning),
            ConfigureServices = consoleDirectory is null ? null : services => services.AddSingleton(new ConsoleAssets(consoleDirectory)),
        };
        var settings = BenchSupport.AppSettings(connection, azurite, adminKey);
        foreach (var (name, value) in settings)
        {
            host.Settings[name] = value;
        }

        // Nothing runs by itself: no timer polls the 100,000 devices while the pages are timed.
        foreach (var timer in FunctionCatalog.Discover(host.FunctionAssemblies).Where(f => f.Kind == TriggerKind.Timer))
        {
            host.Settings[$"AzureWebJobs.{timer.Name}.Disabled"] = "true";
        }

        var app = LocalFunctionsHost.Build(host);
        await app.StartAsync();
        return app;
    }

    /// <summary>Devices as discovery leaves them, through the lifecycle owner in chunks (none is polled here: the timers are off).</summary>
    private static async Task SeedDevicesAsync(NpgsqlDataSource db, int count)
    {
        const int chunk = 10_000;
        for (var first = 1; first <= count; first += chunk)
        {
            var devices = Enumerable.Range(first, Math.Min(chunk, count - first + 1))
                .Select(n => new DeviceProvision(new IPAddress(BitConverter.GetBytes(IPAddress.HostToNetworkOrder((10 << 24) + n))), 161,
                    n % 10 == 0 ? "ssh" : "snmp", 60, Hostname: $"bench-host-{n}"))
                .ToList();
            await InTransactionAsync(db, (connection, transaction) => DeviceLifecycle.ProvisionManyAsync(connection, transaction, devices, DateTimeOffset.UtcNow, CancellationToken.None));
        }
    }

    private static Task<ProvisionResult> CreateDeviceAsync(NpgsqlDataSource db) =>
        InTransactionAsync(db, (connection, transaction) => DeviceLifecycle.ProvisionAsync(connection, transaction,
            new DeviceProvision(IPAddress.Parse("10.255.0.1"), 161, "snmp", 60, Hostname: "bench-core-48"), DateTimeOffset.UtcNow, CancellationToken.None));

    private static async Task<T> InTransactionAsync<T>(NpgsqlDataSource db, Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var result = await work(connection, transaction);
        await transaction.CommitAsync();
        return result;
    }

    /// <summary>
    /// <paramref name="days"/> of one sample a minute, as the snmp plugin reports them: per interface
    /// in/out octet counters (growing at a few Mbit/s) and oper status, CPU, two storages, uptime.
    /// </summary>
    private static async Task<long> SeedMetricsAsync(MetricsWriter writer, long device, int interfaces, int days)
    {
        var end = DateTimeOffset.UtcNow;
        var start = end - TimeSpan.FromDays(days);
        var labels = Enumerable.Range(1, interfaces)
            .Select(i => (IReadOnlyDictionary<string, string>)new Dictionary<string, string> { ["interface"] = $"ge-0/0/{i}", ["if_index"] = i.ToString(CultureInfo.InvariantCulture) })
            .ToArray();
        var cpu = new Dictionary<string, string> { ["cpu"] = "1" };
        var root = new Dictionary<string, string> { ["storage"] = "/" };
        var random = new Random(13);
        var octetsIn = new double[interfaces];
        var octetsOut = new double[interfaces];
        var batch = new List<MetricSample>(60_000);
        long written = 0;
        for (var ts = start; ts <= end; ts += TimeSpan.FromMinutes(1))
        {
            for (var i = 0; i < interfaces; i++)
            {
                octetsIn[i] += 60 * (250_000 + random.Next(100_000) * (1 + i % 4));
                octetsOut[i] += 60 * (80_000 + random.Next(40_000));
                batch.Add(new MetricSample(device, "if_in_octets_total", octetsIn[i], labels[i], ts));
                batch.Add(new MetricSample(device, "if_out_octets_total", octetsOut[i], labels[i], ts));
                if (end - ts < TimeSpan.FromHours(1))
                {
                    batch.Add(new MetricSample(device, "if_oper_status", 1, labels[i], ts));
                }
            }

            batch.Add(new MetricSample(device, "cpu_load_percent", 20 + random.Next(30), cpu, ts));
            batch.Add(new MetricSample(device, "storage_used_bytes", 4e10 + (ts - start).TotalMinutes * 1e5, root, ts));
            batch.Add(new MetricSample(device, "sys_uptime_seconds", (ts - start).TotalSeconds, null, ts));
            if (batch.Count >= 50_000)
            {
                written += await writer.WriteAsync(new MetricsBatchMessage(Guid.NewGuid(), batch), CancellationToken.None);
                batch = new List<MetricSample>(60_000);
            }
        }

        written += await writer.WriteAsync(new MetricsBatchMessage(Guid.NewGuid(), batch), CancellationToken.None);
        return written;
    }
}
