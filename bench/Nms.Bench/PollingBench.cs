namespace Nms.Bench;
internal static class PollingBench { public static Task<int> RunAsync(string[] args) => Task.FromResult(1); }
