using System.Diagnostics;
using System.Globalization;
using Nms.Testing;
using Npgsql;

namespace Nms.Bench;

/// <summary>
/// <c>./nms bench chaos [--scenario random|outages] [--devices 1000] [--interval 30] [--duration 600] [--seed 17]
/// [--postgres-down 600] [--azurite-down 120] [--plugins-dir DIR]</c>: random faults (PostgreSQL restart and stop, Azurite restart, app SIGKILL) one after another over devices polled
/// through the real app on the local host (or, <c>--scenario outages</c>, the issue's goal: PostgreSQL stopped 10 minutes,
/// then Azurite stopped 2 minutes, then an app SIGKILL), each in a <see cref="FaultLab"/> of its own; then, from the database:
/// polls due, polled, failed, lost, duplicated, the longest gap and the time each fault took to recover from.
/// </summary>
public static class ChaosBench
{
    private sealed record Fault(string Kind, DateTimeOffset Started, DateTimeOffset Back, TimeSpan Recovered);

    public static async Task<int> RunAsync(string[] args)
    {
        var devices = BenchSupport.IntOption(args, "--devices", 1000);
        var interval = BenchSupport.IntOption(args, "--interval", 30);
        var duration = TimeSpan.FromSeconds(BenchSupport.IntOption(args, "--duration", 600));
        var random = new Random(BenchSupport.IntOption(args, "--seed", 17));
        var scenario = BenchSupport.StringOption(args, "--scenario") ?? "random";
        if (scenario is not ("random" or "outages"))
        {
            Console.Error.WriteLine("chaos: --scenario random|outages");
            return 2;
        }

        var pgHold = TimeSpan.FromSeconds(BenchSupport.IntOption(args, "--postgres-down", 600));
        var azuriteHold = TimeSpan.FromSeconds(BenchSupport.IntOption(args, "--azurite-down", 120));
        var plugins = BenchSupport.StringOption(args, "--plugins-dir") ?? await BenchSupport.PublishPluginsAsync(CancellationToken.None);

        Console.WriteLine(scenario == "outages"
            ? $"chaos outages: {devices} devices at {interval} s; PostgreSQL stopped {pgHold.TotalSeconds:F0} s, then Azurite stopped {azuriteHold.TotalSeconds:F0} s, then app SIGKILL; host.json budget 5 attempts x 5 s"
            : $"chaos: {devices} devices at {interval} s, {duration.TotalMinutes:F0} min of random faults; host.json budget 5 attempts x 5 s");
        var log = Path.Combine(Path.GetTempPath(), $"nms-chaos-{scenario}-{DateTimeOffset.UtcNow:HHmmss}.log");
        await using var lab = await FaultLab.StartAsync(new FaultLabOptions
        {
            AppLogPath = log,
            Devices = devices,
            IntervalSeconds = interval,
            MaxDequeueCount = 5,
            VisibilityTimeout = TimeSpan.FromSeconds(5),
            PluginsDirectory = plugins,
            LocalHostDll = Path.Combine(AppContext.BaseDirectory, "Nms.Functions.LocalHost.dll"),
            Fping = File.Exists("/usr/bin/fping") ? "/usr/bin/fping" : "fping",
            // The app log tells a late poll from a lost one: every scheduler tick and poll batch, with its time.
            Settings = new Dictionary<string, string>
            {
                ["Logging__LogLevel__Nms.Core.Polling.PollScheduler"] = "Debug",
                ["Logging__LogLevel__Nms.Core.Polling.Poller"] = "Information",
            },
        });
        var warm = await WaitAllPolledSinceAsync(lab, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5));
        Console.WriteLine($"warm: every device polled in {warm.TotalSeconds:F0} s");

        var start = DateTimeOffset.UtcNow;
        var faults = new List<Fault>();
        var down = new List<(DateTimeOffset From, DateTimeOffset To)>();
        // From the SIGKILL until the new app answers: no instance runs, so nothing can be polled.
        var appDown = new List<(DateTimeOffset From, DateTimeOffset To)>();
        async Task RunFaultAsync(string kind, TimeSpan hold)
        {
            var started = DateTimeOffset.UtcNow;
            lab.Mark($"{kind} starts");
            await InjectAsync(lab, kind, hold);
            var back = DateTimeOffset.UtcNow;
            lab.Mark($"{kind} over: the dependency (or the app) is back");
            (kind == "app-sigkill" ? appDown : down).Add((started, back));

            var recovered = await WaitAllPolledSinceAsync(lab, back, TimeSpan.FromMinutes(5));
            faults.Add(new Fault(kind, started, back, recovered));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{started - start:mm\\:ss} ({started:HH:mm:ss}-{back:HH:mm:ss} UTC) {kind,-17} down {(back - started).TotalSeconds,5:F0} s, every device polled again {recovered.TotalSeconds,5:F0} s after it came back ({recovered.TotalSeconds / interval:F1} intervals)"));
        }

        if (scenario == "outages")
        {
            // The issue's goal, fixed: PostgreSQL down 10 minutes, later Azurite down 2 minutes, then an app SIGKILL,
            // each after the previous one has recovered and 2 counted intervals have passed beyond its 2 excused ones
            // (with less, the next fault's excuse covered the previous one's catch-up and nothing late was counted).
            foreach (var (kind, hold) in new[] { ("postgres-stop", pgHold), ("azurite-stop", azuriteHold), ("app-sigkill", TimeSpan.Zero) })
            {
                await RunFaultAsync(kind, hold);
                var quiet = faults[^1].Back + 4 * TimeSpan.FromSeconds(interval) - DateTimeOffset.UtcNow;
                await Task.Delay(quiet > TimeSpan.Zero ? quiet : TimeSpan.Zero);
            }
        }
        else
        {
            while (DateTimeOffset.UtcNow - start < duration)
            {
                var kind = new[] { "postgres-restart", "postgres-stop", "azurite-restart", "app-sigkill" }[random.Next(4)];
                var hold = kind switch
                {
                    "postgres-stop" => TimeSpan.FromSeconds(random.Next(60, 150)),
                    "azurite-restart" => TimeSpan.FromSeconds(random.Next(20, 60)),
                    _ => TimeSpan.Zero,
                };
                await RunFaultAsync(kind, hold);
                await Task.Delay(TimeSpan.FromSeconds(random.Next(10, 30)));
            }
        }

        var end = DateTimeOffset.UtcNow;
        // Let the last fault's messages settle: every device polled a full interval after the end.
        await WaitAllPolledSinceAsync(lab, end + TimeSpan.FromSeconds(interval), TimeSpan.FromMinutes(5));
        await ReportAsync(lab, start, end, interval, down, appDown, faults);
        Console.WriteLine($"app log               {log}");
        return 0;
    }

    private static async Task InjectAsync(FaultLab lab, string kind, TimeSpan hold)
    {
        switch (kind)
        {
            case "postgres-restart":
                lab.Postgres.Stop();
                lab.Postgres.Start();
                break;
            case "postgres-stop":
                lab.Postgres.Stop();
                await Task.Delay(hold);
                lab.Postgres.Start();
                break;
            case "azurite-restart" or "azurite-stop":
                await lab.Azurite.StopAsync();
                await Task.Delay(hold);
                await lab.Azurite.StartAgainAsync();
                break;
            default:
                await lab.KillAndRestartAppAsync();
                break;
        }
    }

    private static async Task<TimeSpan> WaitAllPolledSinceAsync(FaultLab lab, DateTimeOffset since, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            try
            {
                if (await lab.AllPolledSinceAsync() is { } all && all >= since)
                {
                    return DateTimeOffset.UtcNow - since;
                }
            }
            catch (NpgsqlException)
            {
                // PostgreSQL still starting.
            }

            await Task.Delay(1000);
        }

        return limit;
    }

    private static async Task ReportAsync(FaultLab lab, DateTimeOffset start, DateTimeOffset end, int interval, List<(DateTimeOffset From, DateTimeOffset To)> down, List<(DateTimeOffset From, DateTimeOffset To)> appDown, List<Fault> faults)
    {
        var step = TimeSpan.FromSeconds(interval);
        var windows = (int)((end - start) / step);
        // One row per (device, interval window): polled (a sample in it, give or take 2 s of scheduling jitter),
        // failed (a failure event, no sample), or neither.
        await using var command = lab.Data.CreateCommand("""
            WITH w AS (
                SELECT d.id AS device_id, k, $1::timestamptz + k * $2::interval AS w_from, $1::timestamptz + (k + 1) * $2::interval AS w_to
                FROM devices d CROSS JOIN generate_series(0, $3 - 1) k),
            polled AS (SELECT DISTINCT device_id, ts FROM metric_samples WHERE ts >= $1 AND ts < $1 + $3 * $2::interval)
            SELECT w.w_from,
                   EXISTS (SELECT FROM polled p WHERE p.device_id = w.device_id AND p.ts >= w.w_from - interval '2 seconds' AND p.ts < w.w_to + interval '2 seconds') AS polled,
                   EXISTS (SELECT FROM failure_events f WHERE f.device_id = w.device_id AND f.occurred_at >= w.w_from AND f.occurred_at < w.w_to) AS failed
            FROM w
            """);
        command.CommandTimeout = 600;
        command.Parameters.Add(new NpgsqlParameter { Value = start.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = step });
        command.Parameters.Add(new NpgsqlParameter { Value = windows });
        long due = 0, polled = 0, failed = 0, missedInOutage = 0, missedAppDown = 0, lost = 0;
        // Each lost window is put down to the last fault that started before the window ended (a fault's
        // catch-up is where late polls land), so a slow recovery shows which fault it followed.
        var lostAfter = new SortedDictionary<string, long>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                due++;
                var from = new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(0), DateTimeKind.Utc));
                if (reader.GetBoolean(1))
                {
                    polled++;
                }
                else if (reader.GetBoolean(2))
                {
                    failed++;
                }
                else if (down.Any(d => from < d.To + 2 * step && from + step > d.From))
                {
                    missedInOutage++;
                }
                else if (appDown.Any(d => from < d.To + 2 * step && from + step > d.From))
                {
                    // The app's own outage, excused as a dependency's is: no instance was running to poll.
                    missedAppDown++;
                }
                else
                {
                    lost++;
                    var after = faults.LastOrDefault(f => f.Started < from + step);
                    var key = after is null ? "before any fault" : $"{after.Kind} at {after.Started - start:mm\\:ss}";
                    lostAfter[key] = lostAfter.GetValueOrDefault(key) + 1;
                }
            }
        }

        var duplicated = await lab.DuplicateSamplesAsync();
        var maxGap = await lab.ScalarAsync<double>("""
            SELECT coalesce(max(gap), 0)::float8 FROM (
                SELECT extract(epoch FROM ts - lag(ts) OVER (PARTITION BY device_id ORDER BY ts)) AS gap
                FROM (SELECT DISTINCT device_id, ts FROM metric_samples WHERE ts >= $1 AND ts < $2) p) g
            """, start.UtcDateTime, end.UtcDateTime);
        var poison = await lab.PoisonCountsAsync();
        var inactive = await lab.InactiveDevicesAsync();

        Console.WriteLine();
        Console.WriteLine($"window                {start:HH:mm:ss}-{end:HH:mm:ss} UTC, {windows} intervals of {interval} s, {faults.Count} faults");
        Console.WriteLine($"polls due             {due}");
        Console.WriteLine($"polled                {polled}");
        Console.WriteLine($"failed                {failed}");
        Console.WriteLine($"not polled, dependency down {missedInOutage}  (PostgreSQL or Azurite down: no poll can be scheduled; the 2 intervals of catch-up after it are counted here)");
        Console.WriteLine($"not polled, app down  {missedAppDown}  (from the SIGKILL until the new app answered, and 2 intervals of catch-up; earlier runs counted these as lost)");
        Console.WriteLine($"lost                  {lost}  (due outside an outage and its 2 intervals of catch-up, never written nor failed)");
        if (lostAfter.Count > 0)
        {
            Console.WriteLine($"lost, by the fault before it: {string.Join(", ", lostAfter.Select(l => $"{l.Key} {l.Value}"))}");
        }

        Console.WriteLine($"duplicated            {duplicated}  ((device, series, ts) written twice)");
        Console.WriteLine($"max gap               {maxGap:F0} s");
        Console.WriteLine($"devices deactivated   {inactive}");
        Console.WriteLine($"poison messages       {string.Join(", ", poison.Select(p => $"{p.Key} {p.Value}"))}");
        foreach (var fault in faults)
        {
            // Each device's first sample after the fault ended: how the catch-up spread over the devices.
            await using var spread = lab.Data.CreateCommand("""
                SELECT percentile_cont(array[0.5, 0.9, 0.99, 1.0]) WITHIN GROUP (ORDER BY extract(epoch FROM first - $1)::float8),
                       count(*) FILTER (WHERE first - $1 > 2 * $2::interval)
                FROM (SELECT (SELECT min(s.ts) FROM metric_samples s WHERE s.device_id = d.id AND s.ts >= $1) AS first FROM devices d) x
                """);
            spread.Parameters.Add(new NpgsqlParameter { Value = fault.Back.UtcDateTime });
            spread.Parameters.Add(new NpgsqlParameter { Value = step });
            await using var reader = await spread.ExecuteReaderAsync();
            await reader.ReadAsync();
            var p = reader.GetFieldValue<double[]>(0);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{fault.Started - start:mm\\:ss} {fault.Kind,-17} first poll per device after it: p50 {p[0]:F0} s, p90 {p[1]:F0} s, p99 {p[2]:F0} s, max {p[3]:F0} s; {reader.GetInt64(1)} devices later than 2 intervals"));
        }

        foreach (var group in faults.GroupBy(f => f.Kind))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"recover {group.Key,-17} x{group.Count()}: median {Median(group.Select(f => f.Recovered.TotalSeconds)):F0} s, max {group.Max(f => f.Recovered.TotalSeconds):F0} s after the dependency returned"));
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted[sorted.Length / 2];
    }
}
