using Nms.Bench;

// A dispatcher: `dotnet run --project bench/Nms.Bench -- <benchmark> [options]`. One file per benchmark.
var benchmarks = new Dictionary<string, Func<string[], Task<int>>>(StringComparer.OrdinalIgnoreCase)
{
    ["ingest"] = IngestBench.RunAsync,
    ["polling"] = PollingBench.RunAsync,
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: Nms.Bench <{string.Join('|', benchmarks.Keys)}> [options]");
    return 2;
}

return await run(args[1..]);
