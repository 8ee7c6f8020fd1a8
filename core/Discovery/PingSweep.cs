using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Nms.Core.Configuration;

namespace Nms.Core.Discovery;

/// <summary>
/// The optional ping pre-check of discovery batches: one <c>fping -a -q</c> over the addresses of
/// every batch waiting for it, targets on stdin, answering addresses on stdout. Never two fping
/// processes at once in one instance (a process-wide gate), so parallel batches do not flood the
/// host with ICMP; batches that wait share the next sweep instead of queueing one sweep each.
/// NOTE for the lead: core/Polling's ReachabilityFping does the same for polling; unify them once
/// both are on main (this one was written while that one was not).
/// </summary>
public sealed class PingSweep(ReachabilityOptions options, ILogger<PingSweep> logger)
{
    /// <summary>Milliseconds between pings to different targets; fping's default of 10 would make a /16 take minutes.</summary>
    public const int IntervalMilliseconds = 1;

    // Process-wide, per fping binary (tests point other instances at fake ones).
    private static readonly ConcurrentDictionary<string, SweepQueue> Queues = new(StringComparer.Ordinal);

    private SweepQueue Queue => Queues.GetOrAdd(options.FpingPath, _ => new SweepQueue());

    /// <summary>
    /// The addresses that answered ping, or null when fping could not run (missing, crashed, hung):
    /// the caller then probes every address, because a pre-check must never hide a device.
    /// Requests that arrive while a sweep runs are swept together by the next one: a sweep costs
    /// about its timeout whatever its size, so one fping at a time still keeps up with many batches.
    /// </summary>
    public async Task<IReadOnlySet<string>?> AliveAsync(IReadOnlyList<string> addresses, CancellationToken cancellationToken)
    {
        if (addresses.Count == 0)
        {
            return new HashSet<string>(StringComparer.Ordinal);
        }

        var queue = Queue;
        var request = new SweepRequest(addresses);
        lock (queue.Waiting)
        {
            queue.Waiting.Add(request);
        }

        await queue.Gate.WaitAsync(cancellationToken);
        try
        {
            if (!request.Result.Task.IsCompleted)
            {
                await SweepWaitingAsync(queue, cancellationToken);
            }
        }
        finally
        {
            queue.Gate.Release();
        }

        return await request.Result.Task;
    }

    private async Task SweepWaitingAsync(SweepQueue queue, CancellationToken cancellationToken)
    {
        List<SweepRequest> requests;
        lock (queue.Waiting)
        {
            requests = [.. queue.Waiting.Where(r => !r.Result.Task.IsCompleted)];
            queue.Waiting.Clear();
        }

        try
        {
            var union = requests.SelectMany(r => r.Addresses).Distinct(StringComparer.Ordinal).ToList();
            var alive = await RunAsync(union, cancellationToken);
            foreach (var request in requests)
            {
                request.Result.TrySetResult(alive);
            }
        }
        catch (Exception ex)
        {
            // The sweep failed or this caller was cancelled: the others probe without the pre-check.
            foreach (var request in requests)
            {
                if (ex is OperationCanceledException)
                {
                    request.Result.TrySetResult(null);
                }
                else
                {
                    request.Result.TrySetException(ex);
                }
            }

            throw;
        }
    }

    private sealed class SweepQueue
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public List<SweepRequest> Waiting { get; } = [];
    }

    private sealed record SweepRequest(IReadOnlyList<string> Addresses)
    {
        public TaskCompletionSource<IReadOnlySet<string>?> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private async Task<IReadOnlySet<string>?> RunAsync(IReadOnlyList<string> addresses, CancellationToken cancellationToken)
    {
        var retries = Math.Max(0, options.Retries);
        var timeout = Math.Max(10, options.TimeoutMilliseconds);
        var info = new ProcessStartInfo(options.FpingPath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "-a", "-q", "-r", retries.ToString(CultureInfo.InvariantCulture), "-t", timeout.ToString(CultureInfo.InvariantCulture), "-i", IntervalMilliseconds.ToString(CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(argument);
        }

        // fping backs off between retries (x1.5); allow for that, the send interval, and a margin.
        var budget = TimeSpan.FromMilliseconds(addresses.Count * IntervalMilliseconds * (retries + 1) + timeout * Math.Pow(1.5, retries) * (retries + 1) + 5_000);
        using var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            logger.LogWarning("fping at {FpingPath} could not start ({Error}); probing every address without the ping pre-check", options.FpingPath, ex.Message);
            return null;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(budget);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
            var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
            foreach (var address in addresses)
            {
                await process.StandardInput.WriteLineAsync(address.AsMemory(), deadline.Token);
            }

            process.StandardInput.Close();
            var output = await stdout;
            var errors = await stderr;
            await process.WaitForExitAsync(deadline.Token);
            // 0: all alive, 1: some unreachable, 2: some address unknown; anything else is fping failing.
            if (process.ExitCode > 2)
            {
                logger.LogWarning("fping exited with code {ExitCode} ({Error}); probing every address without the ping pre-check", process.ExitCode, LastLine(errors));
                return null;
            }

            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Kill(process);
            logger.LogWarning("fping did not finish within {Budget}; probing every address without the ping pre-check", budget);
            return null;
        }
        catch (IOException ex)
        {
            Kill(process);
            logger.LogWarning("fping pipe failed ({Error}); probing every address without the ping pre-check", ex.Message);
            return null;
        }
        catch
        {
            Kill(process);
            throw;
        }
    }

    private static string LastLine(string text)
    {
        var trimmed = text.TrimEnd();
        var last = trimmed[(trimmed.LastIndexOf('\n') + 1)..];
        return last.Length > 300 ? last[..300] : last;
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
}
