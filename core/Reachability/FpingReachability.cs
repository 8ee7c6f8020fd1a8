using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Nms.Core.Configuration;

namespace Nms.Core.Reachability;

/// <summary>
/// ICMP reachability through fping. fping 5.1 can take another concurrent fping process's echo replies
/// for its own (fping issues #183 and #206), so at most one fping runs per process: callers that arrive
/// while a run is in flight are coalesced into the next run, which pings the union of their addresses.
/// </summary>
public sealed partial class FpingReachability(ReachabilityOptions options, ILogger<FpingReachability> logger)
{
    // Inter-packet interval: fping's default of 10 ms makes a 1,000-address run take 10 s before the timeouts.
    private const int IntervalMilliseconds = 1;

    // Also across instances (several hosts in one test process, discovery and polling): one fping at a time.
    private static readonly SemaphoreSlim ProcessWide = new(1, 1);

    private readonly object gate = new();
    private HashSet<string> pending = new(StringComparer.Ordinal);
    private TaskCompletionSource<IReadOnlySet<string>> pendingResult = NewResult();
    private bool running;
    private long runs;

    /// <summary>How many fping processes this instance has started (tests use it to see coalescing).</summary>
    public long Runs => Interlocked.Read(ref runs);

    /// <summary>The subset of <paramref name="addresses"/> that answered an echo request.</summary>
    public async Task<IReadOnlySet<string>> AliveAsync(IReadOnlyCollection<string> addresses, CancellationToken cancellationToken)
    {
        var valid = addresses.Where(a => IPAddress.TryParse(a, out _)).ToHashSet(StringComparer.Ordinal);
        if (valid.Count == 0)
        {
            return new HashSet<string>(StringComparer.Ordinal);
        }

        Task<IReadOnlySet<string>> result;
        var start = false;
        lock (gate)
        {
            pending.UnionWith(valid);
            result = pendingResult.Task;
            if (!running)
            {
                running = true;
                start = true;
            }
        }

        if (start)
        {
            _ = Task.Run(RunPendingAsync, CancellationToken.None);
        }

        var alive = await result.WaitAsync(cancellationToken);
        return valid.Where(alive.Contains).ToHashSet(StringComparer.Ordinal);
    }

    private async Task RunPendingAsync()
    {
        while (true)
        {
            HashSet<string> take;
            TaskCompletionSource<IReadOnlySet<string>> result;
            lock (gate)
            {
                if (pending.Count == 0)
                {
                    running = false;
                    return;
                }

                take = pending;
                result = pendingResult;
                pending = new HashSet<string>(StringComparer.Ordinal);
                pendingResult = NewResult();
            }

            try
            {
                await ProcessWide.WaitAsync();
                try
                {
                    result.SetResult(await RunFpingAsync(take));
                }
                finally
                {
                    ProcessWide.Release();
                }
            }
            catch (Exception ex)
            {
                result.SetException(ex);
            }
        }
    }

    private async Task<IReadOnlySet<string>> RunFpingAsync(IReadOnlyCollection<string> addresses)
    {
        Interlocked.Increment(ref runs);
        var started = Stopwatch.GetTimestamp();
        var info = new ProcessStartInfo(options.FpingPath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { "-a", "-q", "-r", Math.Max(0, options.Retries).ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "-t", Math.Max(1, options.TimeoutMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "-i", IntervalMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            throw new ReachabilityException(
                $"fping could not be started from '{options.FpingPath}' ({ex.Message}): install fping or point setting Nms:Reachability:FpingPath (env Nms__Reachability__FpingPath) at it, or set Nms:Reachability:Mode to 'tcp'.", ex);
        }

        // Worst case: every address times out on every try (fping backs off 1.5x per retry), plus send time.
        var tries = Math.Max(0, options.Retries) + 1;
        var worst = TimeSpan.FromMilliseconds(options.TimeoutMilliseconds * Math.Pow(1.5, tries) * tries + (addresses.Count * IntervalMilliseconds * tries) + 5_000);
        using var deadline = new CancellationTokenSource(worst);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
            var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
            try
            {
                await process.StandardInput.WriteAsync(new StringBuilder().AppendJoin('\n', addresses).Append('\n'), deadline.Token);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // fping exited before reading its targets (it could not open its socket): its exit code says why.
            }

            var output = await stdout;
            var errors = await stderr;
            await process.WaitForExitAsync(deadline.Token);
            return Interpret(process.ExitCode, output, errors, addresses.Count, Stopwatch.GetElapsedTime(started));
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            throw new ReachabilityException($"fping at '{options.FpingPath}' (setting Nms:Reachability:FpingPath) did not finish within {worst.TotalSeconds:F0} s for {addresses.Count} addresses.");
        }
        catch (IOException ex)
        {
            Kill(process);
            throw new ReachabilityException($"fping at '{options.FpingPath}' (setting Nms:Reachability:FpingPath) closed its pipes early: {ex.Message}", ex);
        }
    }

    private IReadOnlySet<string> Interpret(int exitCode, string output, string errors, int count, TimeSpan elapsed)
    {
        // 0: all alive, 1: some unreachable, 2: some names/addresses not found. 3+: usage or system-call failure.
        if (exitCode >= 3)
        {
            // fping exits 4 when a system call fails, which in practice is the socket it may not open.
            var hint = exitCode == 4 || errors.Contains("socket", StringComparison.OrdinalIgnoreCase) || errors.Contains("permitted", StringComparison.OrdinalIgnoreCase)
                ? " fping lacks the right to open raw sockets: run `setcap cap_net_raw+ep` on it (or allow unprivileged ICMP with net.ipv4.ping_group_range), or set Nms:Reachability:Mode to 'tcp'."
                : "";
            throw new ReachabilityException(
                $"fping at '{options.FpingPath}' (setting Nms:Reachability:FpingPath) failed with exit code {exitCode}{(errors.Trim().Length > 0 ? ": " + errors.Trim() : "")}.{hint}");
        }

        var alive = output
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .ToHashSet(StringComparer.Ordinal);
        LogRun(count, alive.Count, elapsed.TotalMilliseconds);
        return alive;
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private static TaskCompletionSource<IReadOnlySet<string>> NewResult() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(Level = LogLevel.Debug, Message = "fping checked {Addresses} addresses, {Alive} alive, in {DurationMs:F0} ms")]
    private partial void LogRun(int addresses, int alive, double durationMs);
}
