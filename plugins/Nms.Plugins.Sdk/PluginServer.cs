using System.Buffers;
using System.Diagnostics;
using System.Text.Json;

namespace Nms.Plugins.Sdk;

/// <summary>
/// The serve mode: one request per line on stdin, one response per line on stdout, each carrying the request's
/// <c>batch_id</c>. Requests run concurrently (the targets of all of them share one concurrency bound) and answer
/// in whatever order they finish. A request that cannot be run gets a response with <c>error</c>; the process
/// goes on. It ends when stdin closes, after answering everything it read.
/// </summary>
internal static class PluginServer
{
    public static async Task<int> ServeAsync(IPluginHandler handler, PluginHostOptions options, Stream input, Stream output, TextWriter log, CancellationToken cancellationToken)
    {
        using var gate = new SemaphoreSlim(Math.Max(1, options.MaxConcurrency));
        using var writeLock = new SemaphoreSlim(1);
        var reader = new LineReader(input, (int)Math.Min(int.MaxValue - 1, options.MaxRequestBytes));
        var running = new List<Task>();
        try
        {
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                if (line.IsEmpty)
                {
                    continue;
                }

                var (request, problem, _) = PluginHost.Parse(line.Span, mode: null);
                running.RemoveAll(t => t.IsCompleted);
                running.Add(problem.Length == 0
                    ? AnswerAsync(request!, handler, options, gate, writeLock, output, log, cancellationToken)
                    : WriteAsync(new PluginResponse(ContractInfo.Version, [], request?.BatchId, problem), writeLock, output, cancellationToken));
            }
        }
        catch (LineTooLongException ex)
        {
            await log.WriteLineAsync($"{options.Name}: malformed request: {ex.Message}; stopping").ConfigureAwait(false);
            await Task.WhenAll(running).ConfigureAwait(false);
            return ExitCodes.MalformedRequest;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        await Task.WhenAll(running).ConfigureAwait(false);
        if (cancellationToken.IsCancellationRequested)
        {
            await log.WriteLineAsync($"{options.Name}: cancelled while serving").ConfigureAwait(false);
            return ExitCodes.Failed;
        }

        return ExitCodes.Ran;
    }

    private static async Task AnswerAsync(
        PluginRequest request, IPluginHandler handler, PluginHostOptions options, SemaphoreSlim gate, SemaphoreSlim writeLock,
        Stream output, TextWriter log, CancellationToken cancellationToken)
    {
        // Off the reading loop at once: the next request is read while this one runs.
        await Task.Yield();
        var started = Stopwatch.GetTimestamp();
        var results = await PluginHost.RunTargetsAsync(request, handler, gate, cancellationToken).ConfigureAwait(false);
        if (cancellationToken.IsCancellationRequested)
        {
            return;
        }

        await WriteAsync(new PluginResponse(ContractInfo.Version, results, request.BatchId), writeLock, output, cancellationToken).ConfigureAwait(false);
        await PluginHost.LogBatchAsync(log, options, request.Mode, results, started).ConfigureAwait(false);
    }

    /// <summary>One response, one line, written whole under the lock so concurrent answers never interleave.</summary>
    private static async Task WriteAsync(PluginResponse response, SemaphoreSlim writeLock, Stream output, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            JsonSerializer.Serialize(writer, response, ContractJson.Default.PluginResponse);
        }

        buffer.Write("\n"u8);
        await writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await output.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            writeLock.Release();
        }
    }
}
