using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Nms.Core.Data;
using Npgsql;

namespace Nms.Bench;

/// <summary>Options as <c>--name value</c> pairs, services from the environment (defaults: what <c>./nms start</c> runs).</summary>
internal sealed class BenchArgs(string[] args)
{
    public string Get(string name, string fallback)
    {
        var i = Array.IndexOf(args, "--" + name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    public int Int(string name, int fallback) => int.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    public static string PostgresAdmin =>
        Environment.GetEnvironmentVariable("NMS_BENCH_PG_ADMIN") is { Length: > 0 } pg ? pg : "Host=127.0.0.1;Port=55432;Username=nms;Password=nms;Database=postgres";

    public static string Azurite =>
        Environment.GetEnvironmentVariable("NMS_BENCH_AZURITE") is { Length: > 0 } az ? az : "UseDevelopmentStorage=true";
}

/// <summary>A throwaway migrated database for one bench run.</summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    private BenchDatabase(string name, string connectionString)
    {
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "The name is generated here.")]
    public static async Task<BenchDatabase> CreateAsync()
    {
        var name = "nms_bench_" + Guid.NewGuid().ToString("N")[..10];
        await using (var admin = new NpgsqlConnection(BenchArgs.PostgresAdmin))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }

        var connectionString = new NpgsqlConnectionStringBuilder(BenchArgs.PostgresAdmin) { Database = name, MaxPoolSize = 40 }.ConnectionString;
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await new MigrationRunner(dataSource, NullLogger<MigrationRunner>.Instance).MigrateAsync(CancellationToken.None);
        return new BenchDatabase(name, connectionString);
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "The name is generated here.")]
    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(BenchArgs.PostgresAdmin);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}

/// <summary>CPU use of this process and of the whole machine between two readings.</summary>
internal sealed class CpuMeter
{
    private readonly Stopwatch wall = Stopwatch.StartNew();
    private readonly TimeSpan processStart = Process.GetCurrentProcess().TotalProcessorTime;
    private readonly (long Busy, long Total) machineStart = MachineTicks();

    public TimeSpan Elapsed => wall.Elapsed;

    /// <summary>This process's CPU time over wall time, in cores (2.0 = both cores of this machine).</summary>
    public double ProcessCores => (Process.GetCurrentProcess().TotalProcessorTime - processStart).TotalSeconds / wall.Elapsed.TotalSeconds;

    /// <summary>Share of all cores busy on the machine (every process: PostgreSQL, Azurite, plugins, snmpd, and whoever else is building).</summary>
    public double MachineBusy
    {
        get
        {
            var now = MachineTicks();
            var total = now.Total - machineStart.Total;
            return total == 0 ? 0 : (double)(now.Busy - machineStart.Busy) / total;
        }
    }

    private static (long Busy, long Total) MachineTicks()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
        var idle = fields[3] + fields[4];
        var total = fields.Take(8).Sum();
        return (total - idle, total);
    }
}
