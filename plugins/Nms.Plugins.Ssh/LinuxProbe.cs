using System.Globalization;
using Nms.Plugins.Sdk;

namespace Nms.Plugins.Ssh;

/// <summary>The remote commands for a Linux host and the parsing of what they print.</summary>
public static class LinuxProbe
{
    public static string PollScript(double sampleSeconds) =>
        "export LC_ALL=C; echo @@loadavg; cat /proc/loadavg; echo @@stat1; grep '^cpu ' /proc/stat; "
        + $"sleep {sampleSeconds.ToString("0.0##", CultureInfo.InvariantCulture)}; echo @@stat2; grep '^cpu ' /proc/stat; "
        + "echo @@meminfo; cat /proc/meminfo; echo @@df; df -P -k 2>/dev/null; echo @@uptime; cat /proc/uptime; "
        + "echo @@netdev; cat /proc/net/dev";

    public static Dictionary<string, string> Sections(string output, string firstSection = "")
    {
        var sections = new Dictionary<string, string>(StringComparer.Ordinal);
        var name = firstSection;
        var body = new List<string>();
        foreach (var line in (output ?? "").Split('\n'))
        {
            if (line.StartsWith("@@", StringComparison.Ordinal))
            {
                sections[name] = string.Join('\n', body);
                name = line[2..].Trim();
                body.Clear();
            }
            else
            {
                body.Add(line.TrimEnd('\r'));
            }
        }

        sections[name] = string.Join('\n', body);
        return sections;
    }

    public static string? Describe(string? osRelease, string? uname)
    {
        string? pretty = null;
        foreach (var line in (osRelease ?? "").Split('\n'))
        {
            if (line.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))
            {
                pretty = line["PRETTY_NAME=".Length..].Trim().Trim('"');
            }
        }

        var kernel = uname?.Trim();
        return (pretty, kernel) switch
        {
            ({ Length: > 0 }, { Length: > 0 }) => $"{pretty} ({kernel})",
            ({ Length: > 0 }, _) => pretty,
            (_, { Length: > 0 }) => kernel,
            _ => null,
        };
    }

    public static List<PluginMetric> ParseMetrics(string output, DateTimeOffset ts)
    {
        var sections = Sections(output);
        var metrics = new List<PluginMetric>();
        void Add(string name, double value, Dictionary<string, string>? labels = null) => metrics.Add(new PluginMetric(name, value, labels, ts));

        var load = Fields(sections.GetValueOrDefault("loadavg"));
        if (load.Length >= 3 && Number(load[0]) is { } l1 && Number(load[1]) is { } l5 && Number(load[2]) is { } l15)
        {
            Add("load_1m", l1);
            Add("load_5m", l5);
            Add("load_15m", l15);
        }

        if (CpuUtilisation(sections.GetValueOrDefault("stat1"), sections.GetValueOrDefault("stat2")) is { } cpu)
        {
            Add("cpu_utilisation_percent", cpu);
        }

        var memory = MemInfo(sections.GetValueOrDefault("meminfo"));
        if (memory.TryGetValue("MemTotal", out var total))
        {
            var available = memory.TryGetValue("MemAvailable", out var a) ? a : memory.GetValueOrDefault("MemFree");
            Add("mem_total_bytes", total);
            Add("mem_available_bytes", available);
            Add("mem_used_bytes", total - available);
        }

        foreach (var (mount, size, used) in Disks(sections.GetValueOrDefault("df")))
        {
            var labels = new Dictionary<string, string> { ["mount"] = mount };
            Add("disk_size_bytes", size, labels);
            Add("disk_used_bytes", used, labels);
        }

        var uptime = Fields(sections.GetValueOrDefault("uptime"));
        if (uptime.Length >= 1 && Number(uptime[0]) is { } seconds)
        {
            Add("uptime_seconds", seconds);
        }

        foreach (var (name, counters) in NetDev(sections.GetValueOrDefault("netdev")))
        {
            var labels = new Dictionary<string, string> { ["interface"] = name };
            Add("if_in_octets_total", counters[0], labels);
            Add("if_in_errors_total", counters[2], labels);
            Add("if_in_discards_total", counters[3], labels);
            Add("if_out_octets_total", counters[8], labels);
            Add("if_out_errors_total", counters[10], labels);
            Add("if_out_discards_total", counters[11], labels);
        }

        return metrics;
    }

    public static double? CpuUtilisation(string? first, string? second)
    {
        var a = CpuTimes(first);
        var b = CpuTimes(second);
        if (a is null || b is null)
        {
            return null;
        }

        var total = b.Value.Total - a.Value.Total;
        var idle = b.Value.Idle - a.Value.Idle;
        return total <= 0 ? null : Math.Round(Math.Clamp(100.0 * (total - idle) / total, 0, 100), 2);
    }

    private static (double Total, double Idle)? CpuTimes(string? line)
    {
        var fields = Fields(line);
        if (fields.Length < 5 || fields[0] != "cpu")
        {
            return null;
        }

        // user nice system idle iowait irq softirq steal; guest time is already inside user.
        var values = fields.Skip(1).Take(8).Select(Number).ToArray();
        if (values.Any(v => v is null))
        {
            return null;
        }

        var total = values.Sum(v => v!.Value);
        var idle = values[3]!.Value + (values.Length > 4 ? values[4]!.Value : 0);
        return (total, idle);
    }

    private static Dictionary<string, double> MemInfo(string? text)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in (text ?? "").Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var fields = colon > 0 ? Fields(line[(colon + 1)..]) : [];
            if (fields.Length >= 1 && Number(fields[0]) is { } value)
            {
                result[line[..colon]] = fields.Length > 1 && fields[1] == "kB" ? value * 1024 : value;
            }
        }

        return result;
    }

    private static IEnumerable<(string Mount, double Size, double Used)> Disks(string? text)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in (text ?? "").Split('\n').Skip(1))
        {
            // Filesystem 1024-blocks Used Available Capacity Mounted-on; the mount point may contain spaces.
            var fields = Fields(line);
            if (fields.Length < 6 || Number(fields[1]) is not { } blocks || Number(fields[2]) is not { } used || blocks <= 0)
            {
                continue;
            }

            var mount = string.Join(' ', fields[5..]);
            if (seen.Add(mount))
            {
                yield return (mount, blocks * 1024, used * 1024);
            }
        }
    }

    private static IEnumerable<(string Name, double[] Counters)> NetDev(string? text)
    {
        foreach (var line in (text ?? "").Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var counters = Fields(line[(colon + 1)..]).Select(Number).ToArray();
            if (counters.Length >= 16 && counters.All(c => c is not null))
            {
                yield return (line[..colon].Trim(), counters.Select(c => c!.Value).ToArray());
            }
        }
    }

    private static string[] Fields(string? text) =>
        (text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static double? Number(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;
}
