using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Nms.Plugins.Sdk;

public static class PluginHost
{
    /// <summary>The whole life of a plugin process: parse, run every target, answer, and pick the exit code.</summary>
    public static async Task<int> RunAsync(
        string[] args,
        IPluginHandler handler,
        PluginHostOptions options,
        Stream input,
        Stream output,
        TextWriter log,
        CancellationToken cancellationToken)
    {
        if (args is ["-manifest"])
        {
            await JsonSerializer.SerializeAsync(output, new PluginManifest(ContractInfo.Version, options.Name, Serve: true), ContractJson.Default.PluginManifest, cancellationToken).ConfigureAwait(false);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            return ExitCodes.Ran;
        }

        if (args is ["-" + ContractInfo.ServeMode])
        {
            return await PluginServer.ServeAsync(handler, options, input, output, log, cancellationToken).ConfigureAwait(false);
        }

        var mode = ParseMode(args);
        if (mode is null)
        {
            await log.WriteLineAsync($"{options.Name}: usage: {options.Name} -discovery|-poll (request JSON on stdin) | -serve (one request per line) | -manifest").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var (request, problem, code) = await ReadRequestAsync(input, mode, options, cancellationToken).ConfigureAwait(false);
        if (request is null || code != ExitCodes.Ran)
        {
            await log.WriteLineAsync($"{options.Name}: {problem}").ConfigureAwait(false);
            return code;
        }

        var started = Stopwatch.GetTimestamp();
        using var gate = new SemaphoreSlim(Math.Max(1, options.MaxConcurrency));
        var results = await RunTargetsAsync(request, handler, gate, cancellationToken).ConfigureAwait(false);
        if (cancellationToken.IsCancellationRequested)
        {
            await log.WriteLineAsync($"{options.Name}: cancelled before the batch finished").ConfigureAwait(false);
            return ExitCodes.Failed;
        }

        await JsonSerializer.SerializeAsync(output, new PluginResponse(ContractInfo.Version, results), ContractJson.Default.PluginResponse, cancellationToken).ConfigureAwait(false);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        await LogBatchAsync(log, options, mode, results, started).ConfigureAwait(false);
        return ExitCodes.Ran;
    }

    internal static Task LogBatchAsync(TextWriter log, PluginHostOptions options, string mode, PluginResult[] results, long started)
    {
        var failed = 0;
        foreach (var result in results)
        {
            failed += result.Success ? 0 : 1;
        }

        return log.WriteLineAsync($"{options.Name}: {mode} of {results.Length} targets, {failed} failed, {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms");
    }

    /// <summary>Entry point for a plugin's Main: real stdio, SIGTERM and Ctrl-C cancel the batch.</summary>
    public static async Task<int> MainAsync(string[] args, IPluginHandler handler, PluginHostOptions options)
    {
        using var cts = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; cts.Cancel(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; cts.Cancel(); });
        try
        {
            await using var stdin = Console.OpenStandardInput();
            await using var stdout = Console.OpenStandardOutput();
            return await RunAsync(args, handler, options, stdin, stdout, Console.Error, cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            await Console.Error.WriteLineAsync($"{options.Name}: batch failed: {ex.GetType().Name}: {OneLine(ex.Message)}").ConfigureAwait(false);
            return ExitCodes.Failed;
        }
    }

    public static string? ParseMode(string[] args) => args switch
    {
        ["-discovery"] => ContractInfo.DiscoveryMode,
        ["-poll"] => ContractInfo.PollMode,
        _ => null,
    };

    private static async Task<(PluginRequest? Request, string Problem, int Code)> ReadRequestAsync(
        Stream input, string mode, PluginHostOptions options, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int read;
        while ((read = await input.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > options.MaxRequestBytes)
            {
                return (null, $"malformed request: stdin is larger than {options.MaxRequestBytes} bytes", ExitCodes.MalformedRequest);
            }

            buffer.Write(chunk, 0, read);
        }

        return Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), mode);
    }

    /// <summary>Parses and checks one request; <paramref name="mode"/> null (serve mode) takes the request's own mode if it is known.</summary>
    internal static (PluginRequest? Request, string Problem, int Code) Parse(ReadOnlySpan<byte> json, string? mode)
    {
        PluginRequest? request;
        try
        {
            request = JsonSerializer.Deserialize(json, ContractJson.Default.PluginRequest);
        }
        catch (JsonException ex)
        {
            return (null, $"malformed request: {OneLine(ex.Message)}", ExitCodes.MalformedRequest);
        }

        if (request is null)
        {
            return (null, "malformed request: stdin holds no JSON object", ExitCodes.MalformedRequest);
        }

        if (request.ContractVersion != ContractInfo.Version)
        {
            return (request, $"unsupported contract version {request.ContractVersion}; this plugin speaks {ContractInfo.Version}", ExitCodes.UnsupportedVersion);
        }

        if (mode is null ? request.Mode is not (ContractInfo.DiscoveryMode or ContractInfo.PollMode) : !string.Equals(request.Mode, mode, StringComparison.Ordinal))
        {
            return (request, mode is null
                ? $"malformed request: unknown mode \"{OneLine(request.Mode)}\""
                : $"malformed request: mode \"{OneLine(request.Mode)}\" does not match the -{mode} argument", ExitCodes.MalformedRequest);
        }

        if (request.TimeoutMs <= 0)
        {
            return (request, "malformed request: timeout_ms must be positive", ExitCodes.MalformedRequest);
        }

        if (request.Targets.Any(t => t is null || string.IsNullOrEmpty(t.Id) || t.Port is <= 0 or > 65535))
        {
            return (request, "malformed request: every target needs an id and a port in 1..65535", ExitCodes.MalformedRequest);
        }

        return (request, "", ExitCodes.Ran);
    }

    /// <summary>Runs every target of a request, at most as many at once as <paramref name="gate"/> allows (shared by all batches of a serving process).</summary>
    internal static async Task<PluginResult[]> RunTargetsAsync(
        PluginRequest request, IPluginHandler handler, SemaphoreSlim gate, CancellationToken cancellationToken)
    {
        var results = new PluginResult[request.Targets.Count];
        var timeout = TimeSpan.FromMilliseconds(request.TimeoutMs);
        var discovery = request.Mode == ContractInfo.DiscoveryMode;
        var running = new Task[request.Targets.Count];
        for (var i = 0; i < running.Length; i++)
        {
            await gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            // On the thread pool, as Parallel.ForEachAsync ran them: a handler's synchronous part (v3 key
            // localisation) must not hold up the start of the next target.
            var index = i;
            running[i] = Task.Run(() => RunGatedAsync(index), CancellationToken.None);
        }

        await Task.WhenAll(running).ConfigureAwait(false);
        return results;

        async Task RunGatedAsync(int index)
        {
            try
            {
                var target = request.Targets[index];
                var attempts = discovery ? Math.Max(1, target.Credentials?.Count ?? 0) : 1;
                results[index] = await RunOneAsync(target, handler, discovery, timeout, timeout * attempts, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        }
    }

    private static async Task<PluginResult> RunOneAsync(
        PluginTarget target, IPluginHandler handler, bool discovery, TimeSpan timeout, TimeSpan budget, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return PluginResult.Fail(target.Id, "cancelled");
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(budget);
        try
        {
            var work = discovery
                ? handler.DiscoverAsync(target, timeout, deadline.Token)
                : handler.PollAsync(target, timeout, deadline.Token);

            // A handler that ignores its token must still not hold the batch past the budget.
            var finished = await Task.WhenAny(work, Task.Delay(budget + TimeSpan.FromMilliseconds(250), cancellationToken)).ConfigureAwait(false);
            if (finished != work)
            {
                _ = work.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
                return PluginResult.Fail(target.Id, $"timed out after {budget.TotalMilliseconds:F0} ms");
            }

            var result = await work.ConfigureAwait(false);
            // JSON has no NaN or infinity: one bad reading must not make the whole response unwritable.
            if (result.Metrics is { } metrics && metrics.Any(m => !double.IsFinite(m.Value)))
            {
                result = result with { Metrics = metrics.Where(m => double.IsFinite(m.Value)).ToList() };
            }

            return result.Id == target.Id ? result : result with { Id = target.Id };
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return PluginResult.Fail(target.Id, cancellationToken.IsCancellationRequested ? "cancelled" : $"timed out after {budget.TotalMilliseconds:F0} ms");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return PluginResult.Fail(target.Id, $"{ex.GetType().Name}: {OneLine(ex.Message)}");
        }
    }

    public static string OneLine(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var line = text.ReplaceLineEndings(" ").Trim();
        return line.Length <= 300 ? line : line[..300];
    }
}
