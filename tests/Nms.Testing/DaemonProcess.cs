using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace Nms.Testing;

/// <summary>
/// A child daemon owned by a test: its output is kept for failure messages, and it is killed on Dispose,
/// by the finalizer, or at process exit, so a crashed or aborted test run leaves nothing behind.
/// </summary>
public abstract class DaemonProcess : IDisposable
{
    private static readonly ConcurrentDictionary<int, byte> Running = new();
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly int _pid;
    private readonly TextWriter? _tee;
    private int _disposed;

    static DaemonProcess() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        foreach (var pid in Running.Keys)
        {
            KillPid(pid);
        }
    };

    /// <param name="tee">Every line also goes here, whole (<see cref="Output"/> keeps only the tail); synchronised by the caller.</param>
    protected DaemonProcess(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment, string workDirectory, TextWriter? tee = null)
    {
        WorkDirectory = workDirectory;
        _tee = tee;
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            WorkingDirectory = workDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.Start();
        _pid = _process.Id;
        Running[_pid] = 0;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    ~DaemonProcess() => Dispose(false);

    public string WorkDirectory { get; }

    public int ProcessId => _pid;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Polls <paramref name="ready"/> until it holds; fails with the daemon's output if it exits or time runs out.</summary>
    protected async Task WaitUntilReadyAsync(Func<CancellationToken, Task<bool>> ready, TimeSpan limit, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < limit)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{GetType().Name} exited with code {_process.ExitCode}:\n{Output}");
            }

            try
            {
                if (await ready(cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Not up yet.
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        throw new TimeoutException($"{GetType().Name} did not become ready in {limit}:\n{Output}");
    }

    /// <summary>SIGTERM, as a service stop sends, then waits for the exit (the caller still disposes).</summary>
    public async Task TerminateAsync(TimeSpan? limit = null)
    {
        if (_process.HasExited)
        {
            return;
        }

        RunTool("kill", null, "-TERM", _pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var timeout = new CancellationTokenSource(limit ?? TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Dispose kills it.
        }
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        KillPid(_pid);
        Running.TryRemove(_pid, out _);
        if (disposing)
        {
            try
            {
                _process.WaitForExit(5_000);
            }
            catch (InvalidOperationException)
            {
            }

            _process.Dispose();
            try
            {
                Directory.Delete(WorkDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            // Keep the tail only: a chatty daemon must not grow the test's memory without bound.
            if (_output.Length > 64 * 1024)
            {
                _output.Remove(0, _output.Length / 2);
            }

            _output.AppendLine(line);
            try
            {
                _tee?.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // The owner closed its log while this process was still being killed.
            }
        }
    }

    private static void KillPid(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill(entireProcessTree: true);
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
        catch (InvalidOperationException)
        {
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
    }

    protected static string RunTool(string fileName, string? standardInput, params string[] arguments)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {fileName}");
        if (standardInput is not null)
        {
            process.StandardInput.Write(standardInput);
            process.StandardInput.Close();
        }

        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(30_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} did not finish");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} exited {process.ExitCode}: {stderr.Result}");
        }

        return stdout.Result;
    }
}
