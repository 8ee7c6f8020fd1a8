using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Nms.Plugins.Sdk;
using Xunit;

namespace Nms.Plugins.Tests;

public sealed record PluginRun(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    public PluginResponse Response =>
        JsonSerializer.Deserialize(Stdout, ContractJson.Default.PluginResponse) ?? throw new InvalidOperationException("empty response");

    public PluginResult Result(string id) => Response.Results.Single(r => r.Id == id);

    public override string ToString() => $"exit {ExitCode} in {Elapsed.TotalMilliseconds:F0} ms\nstdout: {Stdout}\nstderr: {Stderr}";
}

/// <summary>
/// The published plugin executables: NMS_PLUGINS_DIR if set, else plugins/publish.sh into a temp directory
/// (kept between runs: publish.sh skips the native link when nothing changed).
/// </summary>
public static class Plugins
{
    private static readonly Lazy<string> DirectoryLazy = new(Locate, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Directory => DirectoryLazy.Value;

    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Nms.Functions.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
        }
    }

    public static PluginRequest Request(string mode, int timeoutMs, params PluginTarget[] targets) =>
        new(ContractInfo.Version, mode, timeoutMs, targets);

    public static Task<PluginRun> RunAsync(string plugin, string mode, PluginRequest request) =>
        RunRawAsync(plugin, ["-" + mode], JsonSerializer.Serialize(request, ContractJson.Default.PluginRequest));

    public static async Task<PluginRun> RunRawAsync(string plugin, string[] arguments, string stdin)
    {
        var start = new ProcessStartInfo(Path.Combine(Directory, plugin))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start " + plugin);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.StandardInput.WriteAsync(stdin).ConfigureAwait(false);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // A plugin may reject its arguments and exit before it reads stdin: the pipe is then closed.
        }
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new PluginRun(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false), clock.Elapsed);
    }

    private static string Locate()
    {
        var configured = Environment.GetEnvironmentVariable("NMS_PLUGINS_DIR");
        if (!string.IsNullOrEmpty(configured))
        {
            return configured;
        }

        var root = RepositoryRoot;
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(root)))[..12];
        var output = Path.Combine(Path.GetTempPath(), $"nms-plugins-{hash}");
        var start = new ProcessStartInfo("/bin/bash") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(Path.Combine(root, "plugins", "publish.sh"));
        start.ArgumentList.Add(output);
        using var publish = Process.Start(start)!;
        var log = publish.StandardError.ReadToEndAsync();
        _ = publish.StandardOutput.ReadToEnd();
        if (!publish.WaitForExit(TimeSpan.FromMinutes(15)) || publish.ExitCode != 0)
        {
            throw new InvalidOperationException("plugins/publish.sh failed:\n" + log.Result);
        }

        return output;
    }
}

public static class Expect
{
    public static void Ran(PluginRun run) => Assert.True(run.ExitCode == 0, run.ToString());
}
