using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Npgsql;

namespace Nms.Bench;

public sealed record ChildRun(int ExitCode, string Stdout, string Stderr);

public static class BenchSupport
{
    private const double ClockTicksPerSecond = 100;

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

            throw new InvalidOperationException("cannot find the repository root");
        }
    }

    /// <summary>User+system CPU of every child this process has waited for (utime/stime of reaped children in /proc/self/stat).</summary>
    public static TimeSpan ReapedChildrenCpu() => ProcStatCpu("/proc/self/stat", children: true);

    public static TimeSpan ProcessCpu(int pid) => ProcStatCpu($"/proc/{pid}/stat", children: false);

    private static TimeSpan ProcStatCpu(string path, bool children)
    {
        var stat = File.ReadAllText(path);
        // Fields after the parenthesised command name; utime is field 14, cutime field 16 (1-based).
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var first = children ? 13 : 11;
        var ticks = long.Parse(fields[first], CultureInfo.InvariantCulture) + long.Parse(fields[first + 1], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / ClockTicksPerSecond);
    }

    public static async Task<ChildRun> RunAsync(string fileName, IEnumerable<string> arguments, string? stdin, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory ?? "",
            RedirectStandardInput = stdin is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start " + fileName);
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin).ConfigureAwait(false);
            process.StandardInput.Close();
        }

        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return new ChildRun(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    public static async Task<string> PublishPluginsAsync(CancellationToken cancellationToken)
    {
        var output = Path.Combine(Path.GetTempPath(), "nms-bench-plugins");
        var run = await RunAsync("/bin/bash", [Path.Combine(RepositoryRoot, "plugins", "publish.sh"), output], null, cancellationToken).ConfigureAwait(false);
        return run.ExitCode == 0 ? output : throw new InvalidOperationException("publish.sh failed: " + run.Stderr);
    }

    /// <summary>
    /// Publishes the plugins as they were at git <paramref name="gitRef"/> (the solution-level build files and
    /// plugins/ of that commit), so old and new code can be measured back to back in one run.
    /// </summary>
    public static async Task<string> PublishBaselinePluginsAsync(string gitRef, CancellationToken cancellationToken)
    {
        var source = Path.Combine(Path.GetTempPath(), $"nms-bench-baseline-{gitRef}");
        if (!Directory.Exists(Path.Combine(source, "plugins")))
        {
            Directory.CreateDirectory(source);
            var archive = Path.Combine(source, "source.tar");
            var git = await RunAsync("/usr/bin/git", ["-C", RepositoryRoot, "archive", "-o", archive, gitRef,
                "plugins", "Directory.Build.props", "Directory.Packages.props", "global.json", ".editorconfig"], null, cancellationToken).ConfigureAwait(false);
            var tar = git.ExitCode == 0 ? await RunAsync("/usr/bin/tar", ["-xf", archive, "-C", source], null, cancellationToken).ConfigureAwait(false) : git;
            if (tar.ExitCode != 0)
            {
                Directory.Delete(source, recursive: true);
                throw new InvalidOperationException($"cannot check out {gitRef}: {git.Stderr}{tar.Stderr}");
            }
        }

        var output = Path.Combine(source, "out");
        var run = await RunAsync("/bin/bash", [Path.Combine(source, "plugins", "publish.sh"), output], null, cancellationToken).ConfigureAwait(false);
        return run.ExitCode == 0 ? output : throw new InvalidOperationException($"publish.sh of {gitRef} failed: " + run.Stderr);
    }

    public static int IntOption(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    public static string? StringOption(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>PostgreSQL admin and Azurite connection strings: NMS_TEST_PG_ADMIN and NMS_TEST_AZURITE, or those of ./nms start (local.settings.json).</summary>
    public static (string Postgres, string Azurite) Services()
    {
        var pg = Environment.GetEnvironmentVariable("NMS_TEST_PG_ADMIN");
        var azurite = Environment.GetEnvironmentVariable("NMS_TEST_AZURITE");
        if (!string.IsNullOrEmpty(pg) && !string.IsNullOrEmpty(azurite))
        {
            return (pg, azurite);
        }

        var settings = Path.Combine(Directory.GetCurrentDirectory(), "local.settings.json");
        if (!File.Exists(settings))
        {
            throw new InvalidOperationException("Set NMS_TEST_PG_ADMIN and NMS_TEST_AZURITE, or run ./nms start first (local.settings.json).");
        }

        using var document = JsonDocument.Parse(File.ReadAllText(settings));
        var values = document.RootElement.GetProperty("Values");
        return (values.GetProperty("Nms__Database__ApiConnectionString").GetString()!, values.GetProperty("AzureWebJobsStorage").GetString()!);
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "Only the benches call it, with statements they build from their own generated names.")]
    public static async Task ExecuteAdminAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The settings every bench app on the local host starts from: its own queues, database, keys.</summary>
    public static Dictionary<string, string?> AppSettings(string connection, string azurite, string adminKey)
    {
        var suffix = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
        return new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite,
            [Nms.Core.Configuration.QueueNames.DiscoverySetting] = "bench-discovery-" + suffix,
            [Nms.Core.Configuration.QueueNames.PollSetting] = "bench-poll-" + suffix,
            [Nms.Core.Configuration.QueueNames.MetricsSetting] = "bench-metrics-" + suffix,
            [Nms.Core.Configuration.QueueNames.FailuresSetting] = "bench-failures-" + suffix,
            [Nms.Core.Configuration.QueueNames.NotificationsSetting] = "bench-notifications-" + suffix,
            ["Nms:Database:ApiConnectionString"] = connection,
            ["Nms:Database:MetricsConnectionString"] = connection,
            ["Nms:Auth:BootstrapAdminKey"] = adminKey,
            ["Nms:Crypto:ActiveKeyId"] = "bench",
            ["Nms:Crypto:Keys:bench"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
        };
    }
}
