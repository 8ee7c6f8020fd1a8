using Nms.Bench;

// ./nms bench <name> [options]: one subcommand per benchmark, one file each.
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};

var benchmarks = new Dictionary<string, Func<string[], Task<int>>>(StringComparer.OrdinalIgnoreCase)
{
    ["snmp"] = a => new SnmpBenchmark().RunAsync(a, cts.Token),
    ["discovery"] = DiscoveryBench.RunAsync,
    ["polling"] = PollingBench.RunAsync,
    ["scheduler"] = SchedulerBench.RunAsync,
    ["ingest"] = IngestBench.RunAsync,
    ["ingest-groups"] = IngestGroupsBench.RunAsync,
    ["console"] = ConsoleBench.RunAsync,
    ["metrics-store"] = MetricsStoreBench.RunAsync,
    ["health-consumer"] = a => new HealthConsumerBenchmark().RunAsync(a, cts.Token),
    ["alerting"] = AlertingBench.RunAsync,
    ["chaos"] = ChaosBench.RunAsync,
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: ./nms bench <{string.Join('|', benchmarks.Keys)}> [options]");
    return 2;
}

return await run(args[1..]);
