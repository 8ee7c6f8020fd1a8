using Nms.Bench;

// One class per benchmark; add new ones to this table.
IBenchmark[] benchmarks = [new SnmpBenchmark()];

var chosen = args.Length > 0 ? benchmarks.FirstOrDefault(b => b.Name == args[0]) : null;
if (chosen is null)
{
    Console.Error.WriteLine($"usage: Nms.Bench <{string.Join('|', benchmarks.Select(b => b.Name))}> [options]");
    foreach (var benchmark in benchmarks)
    {
        Console.Error.WriteLine($"  {benchmark.Name}: {benchmark.Description}");
    }

    return 2;
}

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};
return await chosen.RunAsync(args[1..], cts.Token);
