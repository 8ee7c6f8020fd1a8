using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Nms.Tests.Foundation;

/// <summary>
/// The real <c>./nms start</c> on a home, ports, PostgreSQL and Azurite of its own (issue 17, defects 3
/// and 4): a start right after the app was SIGKILLed brings it back at once, the crashed run's log is
/// kept, and the log rotates by size within a bounded total. Everything it started is stopped by pid.
/// </summary>
public sealed class NmsScriptTests : IAsyncLifetime
{
    private const int MaxLogBytes = 32 * 1024;
    private const int KeepLogs = 3;

    private readonly string home = Directory.CreateTempSubdirectory("nms-script-").FullName;
    private readonly int apiPort = FreePort();
    private readonly Dictionary<string, string> environment = [];

    private string Logs => Path.Combine(home, "logs");

    public Task InitializeAsync()
    {
        // The postgres user runs the cluster under the home: it must be able to enter it.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(home, (UnixFileMode)0b111_101_101);
        }

        environment["NMS_HOME"] = home;
        environment["NMS_SETTINGS"] = Path.Combine(home, "local.settings.json");
        environment["NMS_PG_PORT"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        environment["NMS_API_PORT"] = apiPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        environment["NMS_AZURITE_BLOB_PORT"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        environment["NMS_AZURITE_QUEUE_PORT"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        environment["NMS_AZURITE_TABLE_PORT"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        environment["NMS_USE_FUNC"] = "0";
        environment["NMS_LOG_MAX_BYTES"] = MaxLogBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        environment["NMS_LOG_KEEP"] = KeepLogs.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (Environment.GetEnvironmentVariable("NMS_PLUGINS_DIR") is { Length: > 0 } plugins)
        {
            environment["NMS_PLUGINS"] = plugins; // published by ./nms test already
        }

        // The local host this test assembly was built with, instead of a second Release build.
        if (File.Exists(Path.Combine(AppContext.BaseDirectory, "Nms.Functions.LocalHost.runtimeconfig.json")))
        {
            environment["NMS_APP_DIR"] = AppContext.BaseDirectory;
        }

        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await RunAsync("stop");
        foreach (var file in new[] { "app.pid", "logs/writer.pid", "azurite/azurite.pid" })
        {
            KillIfAlive(Path.Combine(home, file));
        }

        var postmaster = Path.Combine(home, "pg", "postmaster.pid");
        if (File.Exists(postmaster))
        {
            KillPid(File.ReadLines(postmaster).First());
        }

        Directory.Delete(home, recursive: true);
    }

    [Fact]
    public async Task A_start_right_after_the_app_was_killed_brings_it_back_and_keeps_the_crashed_run_s_log()
    {
        var first = await RunAsync("start");
        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Equal(HttpStatusCode.OK, await HealthAsync());
        var killed = int.Parse(await File.ReadAllTextAsync(Path.Combine(home, "app.pid")), System.Globalization.CultureInfo.InvariantCulture);

        Process.GetProcessById(killed).Kill(); // SIGKILL
        var second = await RunAsync("start");

        Assert.True(second.ExitCode == 0, second.Output);
        Assert.DoesNotContain("already running", second.Output, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await HealthAsync());
        var restarted = int.Parse(await File.ReadAllTextAsync(Path.Combine(home, "app.pid")), System.Globalization.CultureInfo.InvariantCulture);
        Assert.NotEqual(killed, restarted);
        Assert.Contains($"Now listening on: http://127.0.0.1:{apiPort}", await File.ReadAllTextAsync(Path.Combine(Logs, "functions.log.1")), StringComparison.Ordinal);

        var third = await RunAsync("start");
        Assert.True(third.ExitCode == 0, third.Output);
        Assert.Contains("already running", third.Output, StringComparison.Ordinal);
        Assert.Equal(restarted.ToString(System.Globalization.CultureInfo.InvariantCulture), (await File.ReadAllTextAsync(Path.Combine(home, "app.pid"))).Trim());

        await LogRotatesBySizeWithinItsBoundAsync();
    }

    /// <summary>Requests make the host log; the log must roll over into at most <see cref="KeepLogs"/> files of bounded size.</summary>
    private async Task LogRotatesBySizeWithinItsBoundAsync()
    {
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{apiPort}/api/") };
        var oldest = Path.Combine(Logs, $"functions.log.{KeepLogs}");
        var before = File.Exists(oldest) ? await File.ReadAllTextAsync(oldest) : null;
        for (var i = 0; i < 20_000 && (!File.Exists(oldest) || await File.ReadAllTextAsync(oldest) == before); i++)
        {
            using var response = await client.GetAsync($"no-such-route-{i}");
        }

        var files = Directory.GetFiles(Logs, "functions.log*").Where(f => !f.EndsWith(".pipe", StringComparison.Ordinal)).ToList();
        Assert.True(File.Exists(oldest), "the log never rotated by size");
        Assert.False(File.Exists(Path.Combine(Logs, $"functions.log.{KeepLogs + 1}")), string.Join(", ", files));
        Assert.All(files, f => Assert.True(new FileInfo(f).Length <= MaxLogBytes, $"{f}: {new FileInfo(f).Length} bytes"));
    }

    private async Task<HttpStatusCode> HealthAsync()
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await client.GetAsync($"http://127.0.0.1:{apiPort}/api/health");
        return response.StatusCode;
    }

    private async Task<(int ExitCode, string Output)> RunAsync(string command)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot(), "nms"), command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = home,
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Nms.Functions.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("The repository root (Nms.Functions.sln) is not above the test binaries.");
    }

    private static void KillIfAlive(string pidFile)
    {
        if (File.Exists(pidFile))
        {
            KillPid(File.ReadAllText(pidFile).Trim());
        }
    }

    private static void KillPid(string text)
    {
        if (!int.TryParse(text.Trim(), System.Globalization.CultureInfo.InvariantCulture, out var pid))
        {
            return;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
