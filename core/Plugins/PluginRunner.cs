using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Nms.Core.Configuration;
using Nms.Plugins.Sdk;

namespace Nms.Core.Plugins;

public interface IPluginRunner
{
    /// <summary>Runs <paramref name="plugin"/> once for the whole request. Never throws for a plugin's own failure.</summary>
    Task<PluginRunResult> RunAsync(string plugin, PluginRequest request, CancellationToken cancellationToken);

    IReadOnlyList<string> InstalledPlugins();
}

/// <summary>Either the plugin's response, or why the batch failed as a whole.</summary>
public sealed record PluginRunResult(PluginResponse? Response, string? Error, TimeSpan Duration)
{
    public bool Succeeded => Response is not null;
}

/// <summary>
/// The seed's PluginWorkerPool: at most <see cref="PluginOptions.MaxConcurrentProcesses"/> plugin
/// batches at once per instance, each with a deadline after which the plugin's whole process tree is killed,
/// stdout and stderr drained concurrently (no pipe deadlock) and stdout capped in size. A plugin whose
/// manifest declares serve mode runs as one long-running process (<see cref="ServedPlugin"/>), so its
/// start-up is paid once; any other runs once per batch (the one-shot contract, for plugins in any language).
/// </summary>
public sealed partial class ProcessPluginRunner : IPluginRunner, IDisposable
{
    private readonly PluginOptions options;
    private readonly ILogger<ProcessPluginRunner> logger;
    private readonly SemaphoreSlim slots;
    private readonly ConcurrentDictionary<string, Lazy<ServedPlugin>> served = new(StringComparer.Ordinal);

    public ProcessPluginRunner(PluginOptions options, ILogger<ProcessPluginRunner> logger)
    {
        this.options = options;
        this.logger = logger;
        slots = new SemaphoreSlim(Math.Max(1, options.MaxConcurrentProcesses));
    }

    public IReadOnlyList<string> InstalledPlugins()
    {
        if (!Directory.Exists(options.Directory))
        {
            return [];
        }

        return Directory.EnumerateFiles(options.Directory)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(name => PluginName().IsMatch(name) && IsExecutable(Path.Combine(options.Directory, name)))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    public async Task<PluginRunResult> RunAsync(string plugin, PluginRequest request, CancellationToken cancellationToken)
    {
        if (!PluginName().IsMatch(plugin))
        {
            return new PluginRunResult(null, $"invalid plugin name '{plugin}'", TimeSpan.Zero);
        }

        var path = Path.GetFullPath(Path.Combine(options.Directory, plugin));
        if (!File.Exists(path))
        {
            return new PluginRunResult(null, $"plugin '{plugin}' is not installed in {options.Directory}", TimeSpan.Zero);
        }

        await slots.WaitAsync(cancellationToken);
        try
        {
            return options.Serve && Serves(path)
                ? await served.GetOrAdd(plugin, p => new Lazy<ServedPlugin>(() => new ServedPlugin(p, path, options, logger))).Value.RunAsync(request, cancellationToken)
                : await RunProcessAsync(plugin, path, request, cancellationToken);
        }
        finally
        {
            slots.Release();
        }
    }

    private async Task<PluginRunResult> RunProcessAsync(string plugin, string path, PluginRequest request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var process = new Process { StartInfo = StartInfo(path, request.Mode) };
        process.Start();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(options.RunTimeoutSeconds));
        try
        {
            var stdout = ReadCappedAsync(process.StandardOutput.BaseStream, options.MaxOutputBytes, deadline.Token);
            var stderr = ReadTailAsync(process.StandardError.BaseStream, 64 * 1024, deadline.Token);
            await JsonSerializer.SerializeAsync(process.StandardInput.BaseStream, request, PluginContract.Json, deadline.Token);
            process.StandardInput.Close();
            var output = await stdout;
            var errors = await stderr;
            await process.WaitForExitAsync(deadline.Token);
            LogStderr(plugin, errors);
            return Interpret(process.ExitCode, output, errors, Stopwatch.GetElapsedTime(started));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Kill(process);
            return new PluginRunResult(null, $"plugin timed out after {options.RunTimeoutSeconds} s", Stopwatch.GetElapsedTime(started));
        }
        catch (OutputTooLargeException)
        {
            Kill(process);
            return new PluginRunResult(null, $"plugin output exceeded {options.MaxOutputBytes} bytes", Stopwatch.GetElapsedTime(started));
        }
        catch (IOException ex)
        {
            // The plugin exited before reading stdin, or closed its pipes early.
            Kill(process);
            return new PluginRunResult(null, $"plugin pipe failed: {ex.Message}", Stopwatch.GetElapsedTime(started));
        }
        catch
        {
            Kill(process);
            throw;
        }
    }

    private static PluginRunResult Interpret(int exitCode, byte[] output, byte[] errors, TimeSpan elapsed)
    {
        if (exitCode != 0)
        {
            return new PluginRunResult(null, $"plugin exited with code {exitCode}: {LastLine(errors)}", elapsed);
        }

        try
        {
            var response = JsonSerializer.Deserialize<PluginResponse>(output, PluginContract.Json);
            return response?.Results is null
                ? new PluginRunResult(null, "plugin printed no results", elapsed)
                : new PluginRunResult(response, null, elapsed);
        }
        catch (JsonException ex)
        {
            return new PluginRunResult(null, $"plugin printed invalid JSON: {ex.Message}", elapsed);
        }
    }

    internal static ProcessStartInfo StartInfo(string path, string mode)
    {
        var info = new ProcessStartInfo(path)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(path)!,
        };
        info.ArgumentList.Add("-" + mode);
        return info;
    }

    private static async Task<byte[]> ReadCappedAsync(Stream stream, int cap, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > cap)
            {
                throw new OutputTooLargeException();
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>Drains a stream to its end, keeping only about the last <paramref name="keep"/> bytes: chatty stderr is not a failure.</summary>
    internal static async Task<byte[]> ReadTailAsync(Stream stream, int keep, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > 2 * keep)
            {
                var tail = buffer.GetBuffer().AsSpan((int)buffer.Length - keep, keep).ToArray();
                buffer = new MemoryStream();
                buffer.Write(tail);
            }
        }

        var all = buffer.ToArray();
        return all.Length > keep ? all[^keep..] : all;
    }

    private void LogStderr(string plugin, byte[] errors)
    {
        if (errors.Length > 0)
        {
            logger.LogDebug("Plugin {Plugin} stderr: {Stderr}", plugin, LastLine(errors));
        }
    }

    internal static string LastLine(byte[] errors)
    {
        var text = System.Text.Encoding.UTF8.GetString(errors).TrimEnd();
        var last = text[(text.LastIndexOf('\n') + 1)..];
        return last.Length > 300 ? last[..300] : last;
    }

    internal static void Kill(Process process)
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

    private static bool IsExecutable(string path) =>
        OperatingSystem.IsWindows() || (File.GetUnixFileMode(path) & UnixFileMode.UserExecute) != 0;

    /// <summary>The long-running process of <paramref name="plugin"/>, if one is up (tests use it to watch restarts).</summary>
    public int? ServingProcessId(string plugin) =>
        served.TryGetValue(plugin, out var lazy) && lazy.IsValueCreated ? lazy.Value.ProcessId : null;

    /// <summary>Whether the plugin declares serve mode: <c>&lt;plugin&gt;.manifest.json</c> beside it, as its <c>-manifest</c> prints it.</summary>
    private static bool Serves(string path)
    {
        var manifest = path + ContractInfo.ManifestSuffix;
        if (!File.Exists(manifest))
        {
            return false;
        }

        try
        {
            return JsonSerializer.Deserialize<PluginManifest>(File.ReadAllBytes(manifest), PluginContract.Json) is { Serve: true, ContractVersion: PluginContract.Version };
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        foreach (var plugin in served.Values)
        {
            if (plugin.IsValueCreated)
            {
                plugin.Value.Dispose();
            }
        }

        slots.Dispose();
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$")]
    private static partial Regex PluginName();

    private sealed class OutputTooLargeException : Exception;
}
