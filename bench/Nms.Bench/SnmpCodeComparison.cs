using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Nms.Plugins.Sdk;
using Nms.Testing;

namespace Nms.Bench;

/// <summary>
/// The snmp plugin as it is against the plugin at baseline commits, back to back in one run: CPU per device poll
/// for v2c and SNMPv3 on the real snmpd, SHA-512/AES-256 beside today's SHA-256/AES-128, and a 48-interface device.
/// </summary>
internal static class SnmpCodeComparison
{
    public static readonly SnmpV3User Sha256Aes128 = new("bench-sha256", "SHA-256", "bench-auth-256", "AES", "bench-priv-128");
    public static readonly SnmpV3User Sha512Aes256 = new("bench-sha512", "SHA-512", "bench-auth-512", "AES-256", "bench-priv-256");

    private sealed record Scenario(string Label, IReadOnlyList<PluginTarget> Targets, bool NeedsIssue15);

    private sealed record Figures(int Ok, long Metrics, TimeSpan Wall, TimeSpan Cpu);

    /// <summary>A build to compare with; <c>HasIssue15</c>: it speaks SHA-512/AES-256.</summary>
    public sealed record Baseline(string Label, string Directory, bool HasIssue15);

    public static async Task RunAsync(string current, IReadOnlyList<Baseline> baselines, SnmpdProcess agent, string community,
        string[] addresses, int timeoutMs, int rounds, CancellationToken cancellationToken)
    {
        using var wide = new MiniAgent(FortyEightInterfaces());
        var wideTargets = Enumerable.Range(0, Math.Min(addresses.Length, 250))
            .Select(i => new PluginTarget($"wide{i}", "127.0.0.1", wide.Port, Credential: new PluginCredential(1, Protocols.SnmpV2c, Community: community)))
            .ToArray();
        Scenario[] scenarios =
        [
            new("v2c, default profile (snmpd)", Targets(addresses, agent.Port, new PluginCredential(1, Protocols.SnmpV2c, Community: community)), false),
            new("v3 SHA-256 + AES-128 (snmpd)", Targets(addresses, agent.Port, V3(Sha256Aes128, "sha256", "aes128")), false),
            new("v3 SHA-512 + AES-256 (snmpd)", Targets(addresses, agent.Port, V3(Sha512Aes256, "sha512", "aes256")), true),
            new("v2c, 48-interface device", wideTargets, false),
        ];

        Console.WriteLine();
        Console.WriteLine($"# this code vs {string.Join(" and ", baselines.Select(b => b.Label))}, {rounds} alternating rounds each, medians of plugin user+system CPU");
        Console.WriteLine($"| scenario | code | polls ok | metrics/poll | wall s | plugin CPU s | CPU ms/poll | {string.Join(" | ", baselines.Select(b => $"CPU vs {b.Label}"))} |");
        Console.WriteLine($"|---|---|---|---|---|---|---|{string.Concat(baselines.Select(_ => "---|"))}");
        var v3Before = new Dictionary<string, double>();
        foreach (var scenario in scenarios)
        {
            var speaking = baselines.Where(b => b.HasIssue15 || !scenario.NeedsIssue15).ToList();
            var (now, then) = await MeasureAsync(current, speaking, scenario.Targets, timeoutMs, rounds, cancellationToken).ConfigureAwait(false);
            var polls = scenario.Targets.Count;
            foreach (var baseline in speaking)
            {
                Print(scenario.Label, baseline.Label, then[baseline.Label], polls, []);
            }

            // A baseline that cannot speak SHA-512/AES-256 is compared with what it had: SHA-256/AES-128.
            var ratios = baselines.Select(b => then.TryGetValue(b.Label, out var f) ? f.Cpu.TotalMilliseconds : v3Before.GetValueOrDefault(b.Label))
                .Select(old => old > 0 ? now.Cpu.TotalMilliseconds / old : (double?)null)
                .ToList();
            Print(scenario.Label, "this branch", now, polls, ratios);
            if (scenario.Label.StartsWith("v3 SHA-256", StringComparison.Ordinal))
            {
                foreach (var (label, figures) in then)
                {
                    v3Before[label] = figures.Cpu.TotalMilliseconds;
                }
            }
        }
    }

    /// <summary>System calls per target of one 1,000-target batch, by <c>strace -c -f</c> (a run apart: strace slows it).</summary>
    public static async Task SyscallsAsync(string current, IReadOnlyList<Baseline> baselines, SnmpdProcess agent, string community, string[] addresses, int timeoutMs, CancellationToken cancellationToken)
    {
        if (!File.Exists("/usr/bin/strace"))
        {
            Console.WriteLine("(strace not installed: no syscall counts)");
            return;
        }

        var json = Request(Targets(addresses, agent.Port, new PluginCredential(1, Protocols.SnmpV2c, Community: community)), timeoutMs);
        string[] shown = ["sendto", "sendmsg", "recvfrom", "recvmsg", "epoll_wait", "epoll_ctl", "futex", "sched_yield", "socket", "connect", "close"];
        Console.WriteLine();
        Console.WriteLine($"# system calls per target, v2c default profile, {addresses.Length} targets, strace -c -f");
        Console.WriteLine($"| code | all | {string.Join(" | ", shown)} |");
        Console.WriteLine($"|---|---|{string.Concat(shown.Select(_ => "---|"))}");
        foreach (var (label, directory) in baselines.Select(b => (b.Label, b.Directory)).Append(("this branch", current)))
        {
            var summary = Path.Combine(Path.GetTempPath(), $"nms-bench-strace-{Environment.ProcessId}.txt");
            var run = await BenchSupport.RunAsync("/usr/bin/strace", ["-c", "-f", "-o", summary, Path.Combine(directory, "snmp"), "-poll"], json, cancellationToken).ConfigureAwait(false);
            if (run.ExitCode != 0)
            {
                throw new InvalidOperationException($"strace of {label} exited {run.ExitCode}: {run.Stderr}");
            }

            var calls = ParseStrace(await File.ReadAllLinesAsync(summary, cancellationToken).ConfigureAwait(false));
            File.Delete(summary);
            var perTarget = (string name) => (calls.GetValueOrDefault(name) / (double)addresses.Length).ToString("F1", CultureInfo.InvariantCulture);
            Console.WriteLine($"| {label} | {perTarget("total")} | {string.Join(" | ", shown.Select(perTarget))} |");
        }
    }

    /// <summary>The calls column of <c>strace -c</c>: "% time, seconds, usecs/call, calls, [errors], syscall".</summary>
    private static Dictionary<string, long> ParseStrace(IEnumerable<string> lines)
    {
        var calls = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 5 && long.TryParse(fields[3], CultureInfo.InvariantCulture, out var count) && double.TryParse(fields[0], CultureInfo.InvariantCulture, out _))
            {
                calls[fields[^1]] = count;
            }
        }

        return calls;
    }

    private static void Print(string label, string code, Figures f, int polls, IReadOnlyList<double?> ratios) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {label} | {code} | {f.Ok}/{polls} | {f.Metrics / Math.Max(1, f.Ok)} | {f.Wall.TotalSeconds:F2} | {f.Cpu.TotalSeconds:F2} | {f.Cpu.TotalMilliseconds / polls:F3} | {string.Join(" | ", ratios.Select(r => r is { } v ? v.ToString("F2", CultureInfo.InvariantCulture) : ""))} |"));

    private static string Request(IReadOnlyList<PluginTarget> targets, int timeoutMs) =>
        JsonSerializer.Serialize(new PluginRequest(ContractInfo.Version, ContractInfo.PollMode, timeoutMs, targets), ContractJson.Default.PluginRequest);

    private static async Task<(Figures Now, Dictionary<string, Figures> Then)> MeasureAsync(
        string current, IReadOnlyList<Baseline> baselines, IReadOnlyList<PluginTarget> targets, int timeoutMs, int rounds, CancellationToken cancellationToken)
    {
        var json = Request(targets, timeoutMs);
        var now = new List<Figures>();
        var then = baselines.ToDictionary(b => b.Label, _ => new List<Figures>());
        for (var round = 0; round < rounds; round++)
        {
            now.Add(await PollAsync(current, json, cancellationToken).ConfigureAwait(false));
            foreach (var baseline in baselines)
            {
                then[baseline.Label].Add(await PollAsync(baseline.Directory, json, cancellationToken).ConfigureAwait(false));
            }
        }

        return (Median(now), then.ToDictionary(p => p.Key, p => Median(p.Value)));
    }

    private static Figures Median(List<Figures> runs) => runs.OrderBy(r => r.Cpu).ElementAt(runs.Count / 2);

    private static async Task<Figures> PollAsync(string pluginsDirectory, string json, CancellationToken cancellationToken)
    {
        var (cpu0, clock) = (BenchSupport.ReapedChildrenCpu(), Stopwatch.StartNew());
        var run = await BenchSupport.RunAsync(Path.Combine(pluginsDirectory, "snmp"), ["-poll"], json, cancellationToken).ConfigureAwait(false);
        var (wall, cpu) = (clock.Elapsed, BenchSupport.ReapedChildrenCpu() - cpu0);
        if (run.ExitCode != 0)
        {
            throw new InvalidOperationException($"snmp plugin in {pluginsDirectory} exited {run.ExitCode}: {run.Stderr}");
        }

        var response = JsonSerializer.Deserialize(run.Stdout, ContractJson.Default.PluginResponse)!;
        var failures = response.Results.Where(r => !r.Success).Select(r => r.Error).Distinct().Take(3).ToList();
        if (failures.Count > 0)
        {
            Console.Error.WriteLine($"{pluginsDirectory}: failures: " + string.Join("; ", failures));
        }

        return new Figures(response.Results.Count(r => r.Success), response.Results.Sum(r => (long)(r.Metrics?.Count ?? 0)), wall, cpu);
    }

    private static PluginTarget[] Targets(string[] addresses, int port, PluginCredential credential) =>
        addresses.Select(a => new PluginTarget(a, a, port, Credential: credential)).ToArray();

    private static PluginCredential V3(SnmpV3User user, string auth, string priv) =>
        new(2, Protocols.SnmpV3, User: user.Name, AuthProtocol: auth, AuthKey: user.AuthPassword, PrivProtocol: priv, PrivKey: user.PrivPassword);

    /// <summary>A switch-like agent: 48 ports with every IF-MIB column the poll reads, some storage, two CPUs, UCD memory.</summary>
    private static IEnumerable<(string Oid, Nms.Plugins.Snmp.Codec.SnmpValue Value)> FortyEightInterfaces()
    {
        yield return ("1.3.6.1.2.1.1.3.0", MiniAgent.Ticks(123_456_789));
        for (var i = 1; i <= 48; i++)
        {
            var counter = (ulong)i * 1_000_003;
            foreach (var (column, value) in new (int, Nms.Plugins.Snmp.Codec.SnmpValue)[]
            {
                (2, MiniAgent.Text($"GigabitEthernet1/0/{i}")), (3, MiniAgent.Int(6)), (4, MiniAgent.Int(1500)), (5, MiniAgent.Gauge32(1_000_000_000)),
                (7, MiniAgent.Int(1)), (8, MiniAgent.Int(i % 3 == 0 ? 2 : 1)), (10, MiniAgent.Counter32(counter)), (11, MiniAgent.Counter32(counter / 1000)),
                (13, MiniAgent.Counter32(0)), (14, MiniAgent.Counter32(3)), (16, MiniAgent.Counter32(counter * 2)), (17, MiniAgent.Counter32(counter / 500)),
                (19, MiniAgent.Counter32(0)), (20, MiniAgent.Counter32(1)),
            })
            {
                yield return ($"1.3.6.1.2.1.2.2.1.{column}.{i}", value);
            }

            foreach (var (column, value) in new (int, Nms.Plugins.Snmp.Codec.SnmpValue)[]
            {
                (1, MiniAgent.Text($"Gi1/0/{i}")), (6, MiniAgent.Counter64(counter * 5_000)), (7, MiniAgent.Counter64(counter)), (10, MiniAgent.Counter64(counter * 9_000)),
                (11, MiniAgent.Counter64(counter * 2)), (15, MiniAgent.Gauge32(1000)), (18, MiniAgent.Text(i <= 4 ? $"uplink {i}" : "")),
            })
            {
                yield return ($"1.3.6.1.2.1.31.1.1.1.{column}.{i}", value);
            }
        }

        foreach (var (index, descr) in new[] { (1, "Physical memory"), (3, "Virtual memory"), (31, "/"), (32, "/var") })
        {
            yield return ($"1.3.6.1.2.1.25.2.3.1.3.{index}", MiniAgent.Text(descr));
            yield return ($"1.3.6.1.2.1.25.2.3.1.4.{index}", MiniAgent.Int(4096));
            yield return ($"1.3.6.1.2.1.25.2.3.1.5.{index}", MiniAgent.Int(1_000_000));
            yield return ($"1.3.6.1.2.1.25.2.3.1.6.{index}", MiniAgent.Int(250_000));
        }

        yield return ("1.3.6.1.2.1.25.3.3.1.2.196608", MiniAgent.Int(12));
        yield return ("1.3.6.1.2.1.25.3.3.1.2.196609", MiniAgent.Int(17));
        foreach (var (oid, kb) in new[] { ("3", 2_000_000), ("4", 1_900_000), ("5", 8_000_000), ("6", 5_000_000), ("14", 100_000), ("15", 2_000_000) })
        {
            yield return ($"1.3.6.1.4.1.2021.4.{oid}.0", MiniAgent.Int(kb));
        }

        for (var i = 1; i <= 3; i++)
        {
            yield return ($"1.3.6.1.4.1.2021.10.1.5.{i}", MiniAgent.Int(20 * i));
        }
    }
}
