using System.Diagnostics;

namespace Nms.Testing;

/// <summary>
/// A PostgreSQL cluster of its own (initdb in a temporary folder, a free port), for tests and benches that stop
/// and start the server: stopping the suite's shared server would break every other test running at the time.
/// Run as the <c>postgres</c> user when we are root, as <c>./nms</c> does. Dispose stops it and deletes its data.
/// </summary>
public sealed class PostgresCluster : IDisposable
{
    private readonly string bin;
    private readonly bool asRoot = Environment.UserName == "root";
    private int disposed;

    private PostgresCluster(string directory, int port, string bin)
    {
        Directory = directory;
        Port = port;
        this.bin = bin;
    }

    public string Directory { get; }
    public int Port { get; }
    public string DataDirectory => Path.Combine(Directory, "data");

    /// <summary>A superuser connection to database <paramref name="database"/>.</summary>
    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=nms;Password=nms;Database={database};Timeout=5;Command Timeout=30";

    public static async Task<PostgresCluster> StartAsync()
    {
        var bin = FindBin();
        var directory = System.IO.Directory.CreateTempSubdirectory("nms-pg-").FullName;
        Run("chmod", "755", directory);
        var cluster = new PostgresCluster(directory, FreePort.Tcp(), bin);
        try
        {
            System.IO.Directory.CreateDirectory(cluster.DataDirectory);
            if (cluster.asRoot)
            {
                Run("chown", "postgres:", cluster.DataDirectory);
            }

            cluster.Pg("initdb", "-D", cluster.DataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale");
            await File.AppendAllTextAsync(Path.Combine(cluster.DataDirectory, "postgresql.conf"), $"""

                listen_addresses = '127.0.0.1'
                port = {cluster.Port}
                unix_socket_directories = '{cluster.DataDirectory}'
                max_connections = 200
                fsync = off
                synchronous_commit = off
                full_page_writes = off
                """);
            cluster.Start();
            cluster.Pg("psql", "-h", "127.0.0.1", "-p", cluster.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres", "-d", "postgres", "-qAt",
                "-c", "CREATE ROLE nms LOGIN SUPERUSER PASSWORD 'nms'");
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    /// <summary>Starts the server and waits until it accepts connections.</summary>
    public void Start() => Pg("pg_ctl", "-D", DataDirectory, "-l", Path.Combine(DataDirectory, "server.log"), "-w", "-t", "60", "start");

    /// <summary>Stops the server: <c>fast</c> ends every session at once, as a failover or a crash does to the app.</summary>
    public void Stop(string mode = "fast") => Pg("pg_ctl", "-D", DataDirectory, "-m", mode, "-w", "-t", "60", "stop");

    public string ServerLog => File.Exists(Path.Combine(DataDirectory, "server.log")) ? File.ReadAllText(Path.Combine(DataDirectory, "server.log")) : "";

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
            {
                Stop("immediate");
            }
        }
        catch (InvalidOperationException)
        {
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private void Pg(string tool, params string[] arguments)
    {
        var path = Path.Combine(bin, tool);
        if (asRoot)
        {
            Run("runuser", ["-u", "postgres", "--", path, .. arguments]);
        }
        else
        {
            Run(path, arguments);
        }
    }

    private static void Run(string fileName, params string[] arguments)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = "/" };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {fileName}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} exited with {process.ExitCode}: {error}{output.Result}");
        }
    }

    private static string FindBin()
    {
        var candidates = System.IO.Directory.Exists("/usr/lib/postgresql")
            ? System.IO.Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "pg_ctl")))
                .OrderByDescending(d => d, StringComparer.Ordinal)
            : Enumerable.Empty<string>();
        return candidates.FirstOrDefault() ?? throw new InvalidOperationException("PostgreSQL's pg_ctl is not installed (./nms installs it)");
    }
}
