using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Nms.Plugins.Sdk;
using Nms.Testing;

namespace Nms.Bench;

/// <summary>
/// The snmp plugin polling N loopback "devices" (one snmpd answering on every 127.x.y.z) against net-snmp's
/// command-line tools doing the same reads, then the plugin's start time as Native AOT and framework-dependent.
/// </summary>
public sealed class SnmpBenchmark : IBenchmark
{
    private const string Community = "nms-bench";

    // The plugin's default poll set (plugins/Nms.Plugins.Snmp/Oids.cs) as net-snmp tools: one snmpget of the scalars
    // (sysUpTime, UCD memory and load), one snmpbulkwalk per walked IF-MIB and HOST-RESOURCES-MIB column.
    private static readonly string[] Scalars =
    [
        "1.3.6.1.2.1.1.3.0", "1.3.6.1.4.1.2021.4.5.0", "1.3.6.1.4.1.2021.4.6.0", "1.3.6.1.4.1.2021.4.14.0", "1.3.6.1.4.1.2021.4.15.0",
        "1.3.6.1.4.1.2021.4.3.0", "1.3.6.1.4.1.2021.4.4.0", "1.3.6.1.4.1.2021.10.1.5.1", "1.3.6.1.4.1.2021.10.1.5.2", "1.3.6.1.4.1.2021.10.1.5.3",
    ];

    private static readonly string[] WalkedColumns =
    [
        "1.3.6.1.2.1.31.1.1.1.1", "1.3.6.1.2.1.31.1.1.1.18", "1.3.6.1.2.1.2.2.1.7", "1.3.6.1.2.1.2.2.1.8", "1.3.6.1.2.1.2.2.1.5",
        "1.3.6.1.2.1.31.1.1.1.15", "1.3.6.1.2.1.2.2.1.14", "1.3.6.1.2.1.2.2.1.20", "1.3.6.1.2.1.2.2.1.13", "1.3.6.1.2.1.2.2.1.19",
        "1.3.6.1.2.1.31.1.1.1.6", "1.3.6.1.2.1.31.1.1.1.10", "1.3.6.1.2.1.31.1.1.1.7", "1.3.6.1.2.1.31.1.1.1.11",
        "1.3.6.1.2.1.25.3.3.1.2", "1.3.6.1.2.1.25.2.3.1.3", "1.3.6.1.2.1.25.2.3.1.4", "1.3.6.1.2.1.25.2.3.1.5", "1.3.6.1.2.1.25.2.3.1.6",
    ];

    private static readonly Dictionary<string, string> NoMibs = new() { ["MIBS"] = "" };

    public string Name => "snmp";

    public string Description => "snmp plugin vs net-snmp snmpget + snmpbulkwalk over --devices N loopback devices (default 1000); this code vs --baseline REF,REF (v2c, v3, SHA-512/AES-256, 48 interfaces) and syscalls per target; AOT vs framework-dependent start";

    /// <summary>The last commit before issue 15 (v1, more SNMPv3 variants, more metrics) and main: the plugins to compare with.</summary>
    private const string DefaultBaselines = PreIssue15 + ",main";

    private const string PreIssue15 = "9ea5656";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var devices = BenchSupport.IntOption(args, "--devices", 1000);
        var netSnmpParallel = BenchSupport.IntOption(args, "--netsnmp-parallel", 8);
        var startRuns = BenchSupport.IntOption(args, "--start-runs", 20);
        var timeoutMs = BenchSupport.IntOption(args, "--timeout-ms", 5000);
        var plugins = BenchSupport.StringOption(args, "--plugins") ?? await BenchSupport.PublishPluginsAsync(cancellationToken).ConfigureAwait(false);
        var baselineRefs = BenchSupport.StringOption(args, "--baseline") ?? DefaultBaselines;
        var rounds = BenchSupport.IntOption(args, "--rounds", 3);
        var skipNetSnmp = args.Contains("--skip-netsnmp");
        var snmp = Path.Combine(plugins, "snmp");
        var baselines = baselineRefs == "none" ? [] : await PublishBaselinesAsync(baselineRefs.Split(','), cancellationToken).ConfigureAwait(false);

        // No listen address list: the agent binds 0.0.0.0 and answers only 127.0.0.0/8 sources, so every loopback address is a device.
        using var agent = await SnmpdProcess.StartAsync(new SnmpdOptions
        {
            Addresses = [],
            Community = Community,
            SysName = "bench-agent",
            Users = [SnmpCodeComparison.Sha256Aes128, SnmpCodeComparison.Sha512Aes256],
        }, cancellationToken).ConfigureAwait(false);
        var addresses = Enumerable.Range(0, devices).Select(i => $"127.0.{1 + (i / 254)}.{1 + (i % 254)}").ToArray();
        Console.WriteLine($"# SNMP poll benchmark: {devices} devices on {Environment.ProcessorCount} cores, snmpd {agent.Port}/udp on every 127.x.y.z");

        await PollWithPluginAsync(snmp, agent, addresses.Take(20).ToArray(), timeoutMs, cancellationToken).ConfigureAwait(false);
        // The plugin's run is short enough to repeat: report the median of three.
        var pluginRuns = new List<PollFigures>();
        for (var i = 0; i < 3; i++)
        {
            pluginRuns.Add(await PollWithPluginAsync(snmp, agent, addresses, timeoutMs, cancellationToken).ConfigureAwait(false));
        }

        var plugin = pluginRuns.OrderBy(r => r.Wall).ElementAt(1);
        var netSnmp = skipNetSnmp ? null : await PollWithNetSnmpAsync(agent, addresses, netSnmpParallel, timeoutMs, cancellationToken).ConfigureAwait(false);

        Console.WriteLine();
        Console.WriteLine("| poller | devices ok | values read (plugin: metrics, net-snmp: varbinds) | wall s | targets/s | poller CPU s | CPU ms/target | snmpd CPU s |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        Print("snmp plugin (Native AOT, 128 targets at a time, median of 3 runs)", plugin, devices);
        if (netSnmp is not null)
        {
            Print($"net-snmp snmpget + snmpbulkwalk ({netSnmpParallel} devices at a time)", netSnmp, devices);
        }

        if (baselines.Count > 0)
        {
            await SnmpCodeComparison.RunAsync(plugins, baselines, agent, Community, addresses, timeoutMs, rounds, cancellationToken).ConfigureAwait(false);
        }

        await SnmpCodeComparison.SyscallsAsync(plugins, baselines, agent, Community, addresses, timeoutMs, cancellationToken).ConfigureAwait(false);

        var startup = await StartupAsync(snmp, startRuns, cancellationToken).ConfigureAwait(false);
        Console.WriteLine();
        Console.WriteLine($"| snmp plugin start (empty batch, {startRuns} runs) | median wall ms | mean CPU ms | size MB |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var (label, median, cpu, size) in startup)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {label} | {median:F1} | {cpu:F1} | {size:F1} |"));
        }

        return plugin.Ok == devices ? 0 : 1;
    }

    /// <summary>Each ref as its commit (so a moved branch is published afresh), published into its own directory.</summary>
    private static async Task<List<SnmpCodeComparison.Baseline>> PublishBaselinesAsync(IEnumerable<string> refs, CancellationToken cancellationToken)
    {
        var baselines = new List<SnmpCodeComparison.Baseline>();
        foreach (var gitRef in refs)
        {
            var parsed = await BenchSupport.RunAsync("/usr/bin/git", ["-C", BenchSupport.RepositoryRoot, "rev-parse", "--short", gitRef], null, cancellationToken).ConfigureAwait(false);
            var commit = parsed.ExitCode == 0 ? parsed.Stdout.Trim() : throw new InvalidOperationException($"unknown git ref {gitRef}: {parsed.Stderr}");
            var older = await BenchSupport.RunAsync("/usr/bin/git", ["-C", BenchSupport.RepositoryRoot, "merge-base", "--is-ancestor", commit, PreIssue15], null, cancellationToken).ConfigureAwait(false);
            var directory = await BenchSupport.PublishBaselinePluginsAsync(commit, cancellationToken).ConfigureAwait(false);
            baselines.Add(new SnmpCodeComparison.Baseline(commit == gitRef ? commit : $"{gitRef} ({commit})", directory, HasIssue15: older.ExitCode != 0));
        }

        return baselines;
    }

    private sealed record PollFigures(int Ok, long Values, TimeSpan Wall, TimeSpan PollerCpu, TimeSpan AgentCpu);

    private static void Print(string label, PollFigures f, int devices) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {label} | {f.Ok}/{devices} | {f.Values} | {f.Wall.TotalSeconds:F2} | {devices / f.Wall.TotalSeconds:F0} | {f.PollerCpu.TotalSeconds:F2} | {f.PollerCpu.TotalMilliseconds / devices:F2} | {f.AgentCpu.TotalSeconds:F2} |"));

    private static async Task<PollFigures> PollWithPluginAsync(string snmp, SnmpdProcess agent, string[] addresses, int timeoutMs, CancellationToken cancellationToken)
    {
        var credential = new PluginCredential(1, Protocols.SnmpV2c, Community: Community);
        var request = new PluginRequest(ContractInfo.Version, ContractInfo.PollMode, timeoutMs,
            addresses.Select(a => new PluginTarget(a, a, agent.Port, Credential: credential)).ToArray());
        var json = JsonSerializer.Serialize(request, ContractJson.Default.PluginRequest);
        var (cpu0, agent0, clock) = (BenchSupport.ReapedChildrenCpu(), BenchSupport.ProcessCpu(agent.ProcessId), Stopwatch.StartNew());
        var run = await BenchSupport.RunAsync(snmp, ["-poll"], json, cancellationToken).ConfigureAwait(false);
        var wall = clock.Elapsed;
        var figures = (BenchSupport.ReapedChildrenCpu() - cpu0, BenchSupport.ProcessCpu(agent.ProcessId) - agent0);
        if (run.ExitCode != 0)
        {
            throw new InvalidOperationException($"snmp plugin exited {run.ExitCode}: {run.Stderr}");
        }

        var response = JsonSerializer.Deserialize(run.Stdout, ContractJson.Default.PluginResponse)!;
        var failures = response.Results.Where(r => !r.Success).Select(r => r.Error).Distinct().Take(3).ToList();
        if (failures.Count > 0)
        {
            Console.Error.WriteLine("plugin failures: " + string.Join("; ", failures));
        }

        return new PollFigures(response.Results.Count(r => r.Success), response.Results.Sum(r => (long)(r.Metrics?.Count ?? 0)), wall, figures.Item1, figures.Item2);
    }

    private static async Task<PollFigures> PollWithNetSnmpAsync(SnmpdProcess agent, string[] addresses, int parallel, int timeoutMs, CancellationToken cancellationToken)
    {
        var ok = 0;
        long values = 0;
        var timeout = Math.Max(1, timeoutMs / 1000).ToString(CultureInfo.InvariantCulture);
        var (cpu0, agent0, clock) = (BenchSupport.ReapedChildrenCpu(), BenchSupport.ProcessCpu(agent.ProcessId), Stopwatch.StartNew());
        await Parallel.ForEachAsync(addresses, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = cancellationToken }, async (address, ct) =>
        {
            var target = $"{address}:{agent.Port}";
            var good = true;
            long read = 0;
            var get = await BenchSupport.RunAsync("/usr/bin/snmpget", ["-v2c", "-c", Community, "-m", "", "-On", "-t", timeout, "-r", "1", target, .. Scalars], null, ct, NoMibs).ConfigureAwait(false);
            good &= get.ExitCode == 0;
            read += CountLines(get.Stdout);
            foreach (var column in WalkedColumns)
            {
                var walk = await BenchSupport.RunAsync("/usr/bin/snmpbulkwalk", ["-v2c", "-c", Community, "-m", "", "-On", "-Cr10", "-t", timeout, "-r", "1", target, column], null, ct, NoMibs).ConfigureAwait(false);
                good &= walk.ExitCode == 0;
                read += CountLines(walk.Stdout);
            }

            Interlocked.Add(ref values, read);
            if (good)
            {
                Interlocked.Increment(ref ok);
            }
        }).ConfigureAwait(false);
        return new PollFigures(ok, values, clock.Elapsed, BenchSupport.ReapedChildrenCpu() - cpu0, BenchSupport.ProcessCpu(agent.ProcessId) - agent0);
    }

    private static int CountLines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => !l.Contains("No Such", StringComparison.Ordinal));

    private static async Task<List<(string Label, double MedianMs, double CpuMs, double SizeMb)>> StartupAsync(string aot, int runs, CancellationToken cancellationToken)
    {
        var fdd = Path.Combine(Path.GetTempPath(), "nms-bench-snmp-fdd");
        var publish = await BenchSupport.RunAsync("/usr/bin/env",
            ["dotnet", "publish", Path.Combine(BenchSupport.RepositoryRoot, "plugins", "Nms.Plugins.Snmp", "Nms.Plugins.Snmp.csproj"), "-c", "Release", "-r", "linux-x64",
             "--self-contained", "false", "-p:PublishAot=false", "-p:DebugType=none", "-o", fdd, "--nologo", "-v", "quiet"], null, cancellationToken).ConfigureAwait(false);
        if (publish.ExitCode != 0)
        {
            throw new InvalidOperationException("framework-dependent publish failed: " + publish.Stdout + publish.Stderr);
        }

        var empty = "{\"contract_version\":1,\"mode\":\"poll\",\"timeout_ms\":1000,\"targets\":[]}";
        var results = new List<(string, double, double, double)>();
        foreach (var (label, path, size) in new[]
        {
            ("Native AOT", aot, new FileInfo(aot).Length / 1e6),
            ("framework-dependent (JIT)", Path.Combine(fdd, "snmp"), Directory.GetFiles(fdd).Sum(f => new FileInfo(f).Length) / 1e6),
        })
        {
            await BenchSupport.RunAsync(path, ["-poll"], empty, cancellationToken).ConfigureAwait(false);
            var times = new List<double>();
            var cpu0 = BenchSupport.ReapedChildrenCpu();
            for (var i = 0; i < runs; i++)
            {
                var clock = Stopwatch.StartNew();
                var run = await BenchSupport.RunAsync(path, ["-poll"], empty, cancellationToken).ConfigureAwait(false);
                times.Add(clock.Elapsed.TotalMilliseconds);
                if (run.ExitCode != 0)
                {
                    throw new InvalidOperationException($"{label} exited {run.ExitCode}: {run.Stderr}");
                }
            }

            times.Sort();
            results.Add((label, times[times.Count / 2], (BenchSupport.ReapedChildrenCpu() - cpu0).TotalMilliseconds / runs, size));
        }

        return results;
    }
}
