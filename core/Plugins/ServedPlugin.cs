using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Nms.Core.Configuration;
using Nms.Plugins.Sdk;

namespace Nms.Core.Plugins;

/// <summary>
/// One long-running process of a plugin that declares serve mode (<c>-serve</c>): requests go to its stdin as
/// lines, each with a fresh <c>batch_id</c>, and its stdout lines are matched back by that id, so a batch never
/// gets another batch's answers. The process is started on demand; when it crashes, hangs past the deadline or
/// prints garbage, every batch waiting on it fails with the reason and the next batch starts a new one. A clean
/// exit (code 0) means it answered everything it read: a batch it did not answer is sent once more, to a new process.
/// </summary>
internal sealed partial class ServedPlugin : IDisposable
{
    private readonly string name;
    private readonly string path;
    private readonly PluginOptions options;
    private readonly ILogger logger;
    private readonly Lock sync = new();
    private Instance? current;
    private bool disposed;

    public ServedPlugin(string name, string path, PluginOptions options, ILogger logger)
    {
        this.name = name;
        this.path = path;
        this.options = options;
        this.logger = logger;
    }

    public async Task<PluginRunResult> RunAsync(PluginRequest request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var batchId = Guid.NewGuid().ToString("N");
        var line = Serialize(request with { BatchId = batchId });
        for (var attempt = 0; ; attempt++)
        {
            var answer = await Current().SendAsync(batchId, line, cancellationToken);
            if (answer.Resend && attempt == 0)
            {
                continue;
            }

            return answer.Resend
                ? new PluginRunResult(null, "plugin exited twice without answering", Stopwatch.GetElapsedTime(started))
                : answer.Result with { Duration = Stopwatch.GetElapsedTime(started) };
        }
    }

    /// <summary>The process id of the running process, if any (for tests and diagnostics).</summary>
    public int? ProcessId
    {
        get
        {
            lock (sync)
            {
                return current is { IsAlive: true } instance ? instance.ProcessId : null;
            }
        }
    }

    private Instance Current()
    {
        lock (sync)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (current is not { IsAlive: true })
            {
                current = new Instance(this);
                LogStarted(name, current.ProcessId);
            }

            return current;
        }
    }

    private static byte[] Serialize(PluginRequest request)
    {
        var buffer = new ArrayBufferWriter<byte>(4 * 1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            JsonSerializer.Serialize(writer, request, PluginContract.Json);
        }

        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Closes the process's stdin (it finishes what it read and exits), and kills it if it does not within 2 s.</summary>
    public void Dispose()
    {
        Instance? instance;
        lock (sync)
        {
            disposed = true;
            instance = current;
            current = null;
        }

        instance?.Stop(TimeSpan.FromSeconds(2));
    }

    private readonly record struct Answer(PluginRunResult Result, bool Resend);

    private sealed class Instance
    {
        private readonly ServedPlugin owner;
        private readonly Process process;
        private readonly ConcurrentDictionary<string, TaskCompletionSource<Answer>> pending = new(StringComparer.Ordinal);
        private readonly SemaphoreSlim writeLock = new(1);
        private readonly PluginResponseReader responses = new();
        private readonly Task<byte[]> stderr;
        private string? brokenBecause;
        private volatile bool ended;

        public Instance(ServedPlugin owner)
        {
            this.owner = owner;
            process = new Process { StartInfo = ProcessPluginRunner.StartInfo(owner.path, ContractInfo.ServeMode) };
            process.Start();
            ProcessId = process.Id;
            stderr = ProcessPluginRunner.ReadTailAsync(process.StandardError.BaseStream, 64 * 1024, CancellationToken.None);
            _ = Task.Run(ReadLoopAsync);
        }

        public int ProcessId { get; }

        public bool IsAlive => !ended;

        public async Task<Answer> SendAsync(string batchId, byte[] line, CancellationToken cancellationToken)
        {
            var answer = new TaskCompletionSource<Answer>(TaskCreationOptions.RunContinuationsAsynchronously);
            pending[batchId] = answer;
            if (ended)
            {
                // Ended between Current() and here: its end already failed what was pending, maybe not this one.
                pending.TryRemove(batchId, out _);
                return new Answer(default!, Resend: true);
            }

            try
            {
                await writeLock.WaitAsync(cancellationToken);
                try
                {
                    await process.StandardInput.BaseStream.WriteAsync(line, cancellationToken);
                    await process.StandardInput.BaseStream.FlushAsync(cancellationToken);
                }
                finally
                {
                    writeLock.Release();
                }
            }
            catch (IOException)
            {
                // The process is gone or going: the read loop's end decides this batch's fate (crash or resend).
            }
            catch (OperationCanceledException)
            {
                pending.TryRemove(batchId, out _);
                throw;
            }

            try
            {
                return await answer.Task.WaitAsync(TimeSpan.FromSeconds(owner.options.RunTimeoutSeconds), cancellationToken);
            }
            catch (TimeoutException)
            {
                Break($"plugin timed out after {owner.options.RunTimeoutSeconds} s; killed and restarted", batchId);
                return await answer.Task;
            }
            catch (OperationCanceledException)
            {
                // Our caller gave up (host stopping); the plugin's late answer for it is ignored.
                pending.TryRemove(batchId, out _);
                throw;
            }
        }

        /// <summary>Fails every waiting batch and kills the process; <paramref name="culprit"/>'s batch gets the reason, the others say why they were cut off.</summary>
        private void Break(string reason, string? culprit = null)
        {
            if (Interlocked.CompareExchange(ref brokenBecause, reason, null) is not null)
            {
                return;
            }

            ended = true;
            FailAll(id => culprit is null || id == culprit ? reason : $"plugin restarted while this batch ran: {reason}");
            ProcessPluginRunner.Kill(process);
            owner.LogBroken(owner.name, ProcessId, reason);
        }

        private void FailAll(Func<string, string> reason)
        {
            foreach (var id in pending.Keys)
            {
                if (pending.TryRemove(id, out var waiting))
                {
                    waiting.TrySetResult(new Answer(new PluginRunResult(null, reason(id), TimeSpan.Zero), Resend: false));
                }
            }
        }

        private async Task ReadLoopAsync()
        {
            var reader = new LineReader(process.StandardOutput.BaseStream, owner.options.MaxOutputBytes);
            try
            {
                while (await reader.ReadLineAsync(CancellationToken.None) is { } line)
                {
                    if (!line.IsEmpty && !Deliver(line.Span))
                    {
                        return;
                    }
                }
            }
            catch (LineTooLongException)
            {
                Break($"plugin output exceeded {owner.options.MaxOutputBytes} bytes in one line");
                return;
            }
            catch (IOException ex)
            {
                Break($"plugin pipe failed: {ex.Message}");
                return;
            }

            await EndedAsync();
        }

        /// <summary>False when the line is not a response of this protocol: the process is broken and was killed.</summary>
        private bool Deliver(ReadOnlySpan<byte> line)
        {
            PluginResponse? response;
            try
            {
                response = responses.Read(line);
            }
            catch (JsonException ex)
            {
                Break($"plugin printed invalid JSON: {ex.Message}");
                return false;
            }

            if (response?.BatchId is not { } batchId)
            {
                Break("plugin printed a line without a batch_id");
                return false;
            }

            if (pending.TryRemove(batchId, out var waiting))
            {
                waiting.TrySetResult(new Answer(Interpret(response), Resend: false));
            }
            else
            {
                owner.LogUnknownBatch(owner.name, batchId);
            }

            return true;
        }

        private static PluginRunResult Interpret(PluginResponse response) => response switch
        {
            { Error: { } error } => new PluginRunResult(null, $"plugin refused the request: {error}", TimeSpan.Zero),
            { Results: null } => new PluginRunResult(null, "plugin printed no results", TimeSpan.Zero),
            _ => new PluginRunResult(response, null, TimeSpan.Zero),
        };

        private async Task EndedAsync()
        {
            await process.WaitForExitAsync();
            var errors = await stderr.WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            var code = process.ExitCode;
            ended = true;
            if (brokenBecause is not null)
            {
                return;
            }

            if (code == 0)
            {
                // A clean exit answers all it read: what is still waiting was never read, so it may go to a new process.
                foreach (var id in pending.Keys)
                {
                    if (pending.TryRemove(id, out var waiting))
                    {
                        waiting.TrySetResult(new Answer(default!, Resend: true));
                    }
                }

                owner.LogExited(owner.name, ProcessId);
                return;
            }

            var reason = $"plugin exited with code {code}: {ProcessPluginRunner.LastLine(errors)}";
            FailAll(_ => reason);
            owner.LogBroken(owner.name, ProcessId, reason);
        }

        public void Stop(TimeSpan grace)
        {
            try
            {
                process.StandardInput.Close();
                if (!process.WaitForExit(grace))
                {
                    ProcessPluginRunner.Kill(process);
                }
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException)
            {
                ProcessPluginRunner.Kill(process);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Plugin {Plugin} serving as process {ProcessId}")]
    private partial void LogStarted(string plugin, int processId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Plugin {Plugin} process {ProcessId} exited cleanly; the next batch starts another")]
    private partial void LogExited(string plugin, int processId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Plugin {Plugin} process {ProcessId} ended: {Reason}; its waiting batches failed, the next batch starts another")]
    private partial void LogBroken(string plugin, int processId, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Plugin {Plugin} answered batch {BatchId}, which no one waits for (given up); ignored")]
    private partial void LogUnknownBatch(string plugin, string batchId);
}
