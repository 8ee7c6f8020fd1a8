using System.Globalization;

namespace Nms.Bench;

/// <summary>One process's counters from /proc/&lt;pid&gt;/stat and /proc/&lt;pid&gt;/io.</summary>
internal readonly record struct ProcStat(int Pid, int ParentPid, string Name, TimeSpan Own, TimeSpan ReapedChildren, long WrittenBytes)
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux

    public static ProcStat? Read(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var open = stat.IndexOf('(', StringComparison.Ordinal);
            var close = stat.LastIndexOf(')');
            var fields = stat[(close + 2)..].Split(' ');
            // fields[0] is field 3 (state): ppid is field 4, utime..cstime fields 14-17.
            return new ProcStat(
                pid,
                int.Parse(fields[1], CultureInfo.InvariantCulture),
                stat[(open + 1)..close],
                Ticks(fields[11]) + Ticks(fields[12]),
                Ticks(fields[13]) + Ticks(fields[14]),
                WriteBytes(pid));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null; // gone between listing and reading
        }
    }

    public static IEnumerable<ProcStat> All()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && Read(pid) is { } stat)
            {
                yield return stat;
            }
        }
    }

    private static TimeSpan Ticks(string field) => TimeSpan.FromSeconds(long.Parse(field, CultureInfo.InvariantCulture) / TicksPerSecond);

    private static long WriteBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/io"))
            {
                if (line.StartsWith("write_bytes:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(12).Trim(), CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return 0;
    }
}

/// <summary>CPU time (and disk bytes written) of one part of the system at one moment: a root process, its live descendants and what it reaped.</summary>
internal readonly record struct PartReading(TimeSpan Cpu, long WrittenBytes)
{
    public static PartReading operator -(PartReading a, PartReading b) => new(a.Cpu - b.Cpu, a.WrittenBytes - b.WrittenBytes);

    public static PartReading operator +(PartReading a, PartReading b) => new(a.Cpu + b.Cpu, a.WrittenBytes + b.WrittenBytes);
}

/// <summary>
/// Samples CPU per part of the pipeline from /proc: the app (this process's own threads), the plugin processes
/// (this process's children, live or reaped, but not the snmpd that stands in for the devices), PostgreSQL
/// (the postmaster and its children, live or reaped) and Azurite (its process tree).
/// A process reaped inside the window counts whole (its time before the window too): close enough for
/// processes that live far shorter than the window (fping, one-shot plugins) or far longer (pooled backends).
/// </summary>
internal sealed class PipelineCpu(int? postgresPid, int? azuritePid)
{
    private static readonly int Self = Environment.ProcessId;

    public int? PostgresPid => postgresPid;

    public int? AzuritePid => azuritePid;

    /// <summary>The postmaster: the parent of a connection's backend, when the server runs on this machine.</summary>
    public static async Task<int?> PostmasterPidAsync(string connectionString)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT pg_backend_pid()", connection);
        var backend = (int)(await command.ExecuteScalarAsync())!;
        return ProcStat.Read(backend) is { } stat && ProcStat.Read(stat.ParentPid) is { Name: "postgres" or "postmaster" } parent ? parent.Pid : null;
    }

    public Snapshot Take()
    {
        var all = ProcStat.All().ToList();
        var self = all.FirstOrDefault(p => p.Pid == Self);
        var app = new PartReading(self.Own, self.WrittenBytes);
        var plugins = Tree(all, Self, exclude: p => p.Name == "snmpd", includeRoot: false) + new PartReading(self.ReapedChildren, 0);
        return new Snapshot(app, plugins, Part(all, postgresPid), Part(all, azuritePid));
    }

    private static PartReading Part(List<ProcStat> all, int? root) =>
        root is { } pid && all.FirstOrDefault(p => p.Pid == pid) is { Pid: > 0 } r
            ? Tree(all, pid, _ => false, includeRoot: true) + new PartReading(r.ReapedChildren, 0)
            : default;

    private static PartReading Tree(List<ProcStat> all, int root, Func<ProcStat, bool> exclude, bool includeRoot)
    {
        var children = all.ToLookup(p => p.ParentPid);
        var cpu = TimeSpan.Zero;
        long written = 0;
        var stack = new Stack<int>([root]);
        while (stack.Count > 0)
        {
            var pid = stack.Pop();
            foreach (var child in children[pid])
            {
                if (exclude(child))
                {
                    continue;
                }

                cpu += child.Own;
                written += child.WrittenBytes;
                stack.Push(child.Pid);
            }
        }

        if (includeRoot && all.FirstOrDefault(p => p.Pid == root) is { Pid: > 0 } self)
        {
            cpu += self.Own;
            written += self.WrittenBytes;
        }

        return new PartReading(cpu, written);
    }

    public readonly record struct Snapshot(PartReading App, PartReading Plugins, PartReading Postgres, PartReading Azurite)
    {
        public static Snapshot operator -(Snapshot a, Snapshot b) =>
            new(a.App - b.App, a.Plugins - b.Plugins, a.Postgres - b.Postgres, a.Azurite - b.Azurite);
    }
}
