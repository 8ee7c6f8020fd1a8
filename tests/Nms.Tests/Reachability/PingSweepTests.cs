using Microsoft.Extensions.Logging.Abstractions;
using Nms.Core.Configuration;
using Nms.Core.Reachability;

namespace Nms.Tests.Reachability;

/// <summary>The pre-check's fping handling, with real fping and with fake ones (shell scripts) where a failure must be forced.</summary>
public sealed class PingSweepTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("nms-fake-fping-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private string FakeFping(string body)
    {
        var path = Path.Combine(directory, "fping-" + Guid.NewGuid().ToString("N")[..8]);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return path;
    }

    private static Sweeper Sweep(string fping, int timeoutMs = 200)
    {
        var options = new ReachabilityOptions { FpingPath = fping, TimeoutMilliseconds = timeoutMs, Retries = 0 };
        return new(new ReachabilityChecker(options, new FpingReachability(options, NullLogger<FpingReachability>.Instance), new TcpReachability(options), NullLogger<ReachabilityChecker>.Instance));
    }

    /// <summary>Discovery's pre-check, as the discovery worker calls it.</summary>
    private sealed class Sweeper(ReachabilityChecker checker)
    {
        public Task<IReadOnlySet<string>?> AliveAsync(IReadOnlyList<string> addresses, CancellationToken cancellationToken) => checker.SweepAsync(addresses, cancellationToken);
    }

    [Fact]
    public async Task Real_fping_reports_loopback_addresses_as_alive()
    {
        var fping = Environment.GetEnvironmentVariable("NMS_FPING") is { Length: > 0 } path ? path : "/usr/bin/fping";

        var alive = await Sweep(fping).AliveAsync(["127.0.0.1", "127.0.0.2"], CancellationToken.None);

        Assert.NotNull(alive);
        Assert.Equal(["127.0.0.1", "127.0.0.2"], alive.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Concurrent_batches_share_sweeps_and_never_run_two_fpings_at_once()
    {
        var log = Path.Combine(directory, "runs.log");
        var busy = Path.Combine(directory, "busy");
        // Echoes its stdin as "alive", slowly, and records overlap if a second copy starts meanwhile.
        var fping = FakeFping($$"""
            [ -e {{busy}} ] && echo overlap >> {{log}}
            touch {{busy}}
            echo run >> {{log}}
            input=$(cat)
            sleep 0.3
            rm -f {{busy}}
            printf '%s\n' "$input"
            """);
        var sweep = Sweep(fping);
        var batches = Enumerable.Range(0, 8).Select(b => Enumerable.Range(1, 4).Select(h => $"127.30.{b}.{h}").ToList()).ToList();

        var results = await Task.WhenAll(batches.Select(b => sweep.AliveAsync(b, CancellationToken.None)));

        var runs = File.ReadAllLines(log);
        Assert.DoesNotContain("overlap", runs);
        Assert.InRange(runs.Length, 1, 3);
        for (var i = 0; i < batches.Count; i++)
        {
            Assert.NotNull(results[i]);
            Assert.All(batches[i], address => Assert.Contains(address, results[i]!));
        }
    }

    [Fact]
    public async Task Missing_fping_means_no_pre_check_rather_than_no_devices()
    {
        var alive = await Sweep(Path.Combine(directory, "no-such-fping")).AliveAsync(["127.0.0.1"], CancellationToken.None);

        Assert.Null(alive);
    }

    [Fact]
    public async Task Fping_that_fails_means_no_pre_check()
    {
        var alive = await Sweep(FakeFping("cat >/dev/null; echo 'fping: broken' >&2; exit 4")).AliveAsync(["127.0.0.1"], CancellationToken.None);

        Assert.Null(alive);
    }

    [Fact]
    public async Task Fping_exit_code_1_still_reports_the_addresses_that_answered()
    {
        var alive = await Sweep(FakeFping("cat >/dev/null; echo 127.0.0.1; exit 1")).AliveAsync(["127.0.0.1", "127.31.0.1"], CancellationToken.None);

        Assert.Equal(["127.0.0.1"], alive!);
    }

    [Fact]
    public async Task Fping_that_hangs_is_killed_and_means_no_pre_check()
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var alive = await Sweep(FakeFping("cat >/dev/null; sleep 600"), timeoutMs: 10).AliveAsync(["127.0.0.1"], CancellationToken.None);

        Assert.Null(alive);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
    }
}
