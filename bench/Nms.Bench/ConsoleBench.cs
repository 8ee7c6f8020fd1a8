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
using Npgsql;

namespace Nms.Bench;

/// <summary>
/// <c>./nms bench console [--devices 100000] [--days 30] [--interfaces 48] [--runs 5]</c>: the
/// operator console in Debian's headless Chromium against the real app on the local host, timed
/// with the page's own Performance API marks (milliseconds since navigation start):
/// the devices page's first render with <c>--devices</c> devices, and the device page's charts for
/// the 24 h and 30 d ranges of a device with <c>--interfaces</c> interfaces and <c>--days</c> of
/// metrics at 60 s written through the metrics writer. Medians of <c>--runs</c> fresh page loads.
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
        var (pg, azurite) = BenchSupport.Services();
        var database = "nms_bench_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5));
        await BenchSupport.ExecuteAdminAsync(pg, $"CREATE DATABASE {database}");
        try
        {
            var connection = new NpgsqlConnectionStringBuilder(pg) { Database = database, MaxPoolSize = 20 }.ConnectionString;
            var adminKey = "bench_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            var port = BenchSupport.FreeTcpPort();
            await using var app = await StartAppAsync(connection, azurite, adminKey, port);
            var db = app.Services.GetRequiredService<NmsDataSources>().Api;
            var baseUri = new Uri($"http://127.0.0.1:{port}/api/");

            Console.WriteLine($"console bench: {devices:N0} devices, one with {interfaces} interfaces and {days} days of metrics at 60 s, {runs} runs each, {Environment.ProcessorCount} cores");
            await SeedDevicesAsync(db, devices);
            var device = (await CreateDeviceAsync(db)).DeviceId;
            var samples = await SeedMetricsAsync(app.Services.GetRequiredService<MetricsWriter>(), device, interfaces, days);
            Console.WriteLine($"seeded {devices:N0} devices and {samples:N0} samples for device {device}");

            Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = "/usr/bin/chromium",
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            });
            var console = new Uri(baseUri, "console/").ToString();
            Console.WriteLine("| page | measure | median | min | max |");
            Console.WriteLine("| --- | --- | --- | --- | --- |");
            await MeasureAsync(browser, adminKey, console + "#/devices", runs, $"devices ({devices:N0})", "nms:devices:rendered", "nms:devices:page");
            foreach (var range in new[] { "24h", "30d" })
            {
                await MeasureAsync(browser, adminKey, console + $"#/devices/{device}?range={range}", runs, $"device {range} ({interfaces} interfaces)", "nms:device:charts-drawn", $"nms:device:charts:{range}");
            }

            await app.StopAsync();
            return 0;
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await BenchSupport.ExecuteAdminAsync(pg, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
        }
    }

    /// <summary>
    /// Fresh context per run (nothing cached), the key put in sessionStorage before the page's own
    /// script runs; reports when <paramref name="mark"/> fired after navigation start and how long
    /// the page's <paramref name="measure"/> (API calls + drawing) took.
    /// </summary>
    private static async Task MeasureAsync(IBrowser browser, string key, string url, int runs, string page, string mark, string measure)
    {
        var marks = new List<double>();
        var measures = new List<double>();
        for (var run = 0; run < runs; run++)
        {
            await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
            await context.AddInitScriptAsync($"sessionStorage.setItem('nms.apiKey', {System.Text.Json.JsonSerializer.Serialize(key)});");
            var tab = await context.NewPageAsync();
            await tab.GotoAsync(url);
            await tab.WaitForFunctionAsync($"() => performance.getEntriesByName('{mark}').length > 0", null, new PageWaitForFunctionOptions { Timeout = 120_000 });
            marks.Add(await tab.EvaluateAsync<double>($"() => performance.getEntriesByName('{mark}')[0].startTime"));
            measures.Add(await tab.EvaluateAsync<double>($"() => performance.getEntriesByName('{measure}')[0].duration"));
        }

        Console.WriteLine(Row(page, $"{mark} after navigation start", marks));
        Console.WriteLine(Row(page, $"{measure} (API + draw)", measures));
    }

    private static string Row(string page, string what, List<double> values)
    {
        values.Sort();
        return string.Create(CultureInfo.InvariantCulture, $"| {page} | {what} | {values[values.Count / 2]:F0} ms | {values[0]:F0} ms | {values[^1]:F0} ms |");
    }

    private static async Task<Microsoft.AspNetCore.Builder.WebApplication> StartAppAsync(string connection, string azurite, string adminKey, int port)
    {
        var host = new LocalHostOptions
        {
            Urls = $"http://127.0.0.1:{port}",
            LocalSettingsPath = Path.Combine(Path.GetTempPath(), "nms-bench-none.json"),
            ConfigureLogging = logging => logging.SetMinimumLevel(LogLevel.Warning),
        };
        var settings = BenchSupport.AppSettings(connection, azurite, adminKey);
        settings["Nms:Metrics:RetentionDays"] = "400";
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
