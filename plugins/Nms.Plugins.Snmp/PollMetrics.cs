using System.Globalization;
using Nms.Plugins.Sdk;
using Nms.Plugins.Snmp.Codec;

namespace Nms.Plugins.Snmp;

/// <summary>Walked table columns keyed by column, then by row index ("2", "1.4", …).</summary>
internal sealed class WalkedColumns
{
    private static readonly Dictionary<string, SnmpValue> Empty = [];
    private readonly Dictionary<ObjectIdentifier, Dictionary<string, SnmpValue>> _columns = [];

    public void Add(IReadOnlyList<ObjectIdentifier> columns, IReadOnlyList<IReadOnlyList<VarBind>> rows)
    {
        for (var i = 0; i < columns.Count; i++)
        {
            var byIndex = new Dictionary<string, SnmpValue>(StringComparer.Ordinal);
            foreach (var row in rows[i])
            {
                byIndex[Index(row.Oid.Suffix(columns[i]))] = row.Value;
            }

            _columns[columns[i]] = byIndex;
        }
    }

    public IReadOnlyDictionary<string, SnmpValue> this[ObjectIdentifier column] => _columns.TryGetValue(column, out var rows) ? rows : Empty;

    private static string Index(ReadOnlySpan<uint> suffix) => suffix.Length == 1
        ? suffix[0].ToString(CultureInfo.InvariantCulture)
        : string.Join('.', suffix.ToArray().Select(c => c.ToString(CultureInfo.InvariantCulture)));
}

/// <summary>Turns the poll's scalars and walked columns into metrics.</summary>
internal static class PollMetrics
{
    private const string Counter = "counter";

    private static readonly (ObjectIdentifier Column, string Name)[] InterfaceGauges =
    [
        (Oids.IfAdminStatus, "if_admin_status"),
        (Oids.IfOperStatus, "if_oper_status"),
    ];

    /// <summary>Each interface counter with its 64-bit column, if any, and the 32-bit one to fall back to.</summary>
    private static readonly (ObjectIdentifier? Wide, ObjectIdentifier Narrow, string Name)[] InterfaceCounters =
    [
        (Oids.IfHcInOctets, Oids.IfInOctets, "if_in_octets_total"),
        (Oids.IfHcOutOctets, Oids.IfOutOctets, "if_out_octets_total"),
        (Oids.IfHcInUcastPkts, Oids.IfInUcastPkts, "if_in_unicast_packets_total"),
        (Oids.IfHcOutUcastPkts, Oids.IfOutUcastPkts, "if_out_unicast_packets_total"),
        (null, Oids.IfInErrors, "if_in_errors_total"),
        (null, Oids.IfOutErrors, "if_out_errors_total"),
        (null, Oids.IfInDiscards, "if_in_discards_total"),
        (null, Oids.IfOutDiscards, "if_out_discards_total"),
    ];

    /// <summary>UCD-SNMP-MIB memory, in kB on the wire.</summary>
    private static readonly (ObjectIdentifier Oid, string Name)[] Memory =
    [
        (Oids.MemTotalReal, "memory_total_bytes"),
        (Oids.MemAvailReal, "memory_available_bytes"),
        (Oids.MemBuffer, "memory_buffer_bytes"),
        (Oids.MemCached, "memory_cached_bytes"),
        (Oids.MemTotalSwap, "memory_swap_total_bytes"),
        (Oids.MemAvailSwap, "memory_swap_available_bytes"),
    ];

    private static readonly (ObjectIdentifier Oid, string Name)[] Load =
    [
        (Oids.LaLoadInt1, "load_1m"),
        (Oids.LaLoadInt5, "load_5m"),
        (Oids.LaLoadInt15, "load_15m"),
    ];

    /// <summary>The poll's GET, in <see cref="Oids.PollScalars"/> order.</summary>
    public static void AddScalars(List<PluginMetric> metrics, IReadOnlyList<VarBind> scalars, DateTimeOffset ts)
    {
        var byOid = scalars.Where(v => !v.Value.IsException).ToDictionary(v => v.Oid, v => v.Value);
        if (byOid.TryGetValue(Oids.SysUpTime, out var uptime) && uptime.AsNumber() is { } ticks)
        {
            metrics.Add(new PluginMetric("sys_uptime_seconds", ticks / 100, Ts: ts));
        }

        foreach (var (oid, name) in Memory)
        {
            if (byOid.TryGetValue(oid, out var value) && value.AsNumber() is { } kilobytes)
            {
                metrics.Add(new PluginMetric(name, kilobytes * 1024, Ts: ts));
            }
        }

        foreach (var (oid, name) in Load)
        {
            if (byOid.TryGetValue(oid, out var value) && value.AsNumber() is { } hundredths)
            {
                metrics.Add(new PluginMetric(name, hundredths / 100, Ts: ts));
            }
        }
    }

    /// <summary>True when some interface lacks a 64-bit counter: the 32-bit columns are then walked too.</summary>
    public static bool NeedsCounter32(WalkedColumns walked)
    {
        var interfaces = InterfaceIndexes(walked);
        return Oids.Counter64Columns.Any(column => interfaces.Any(index => !walked[column].ContainsKey(index)));
    }

    public static void AddWalked(List<PluginMetric> metrics, WalkedColumns walked, DateTimeOffset ts)
    {
        AddInterfaces(metrics, walked, ts);
        AddHostResources(metrics, walked, ts);
    }

    private static void AddInterfaces(List<PluginMetric> metrics, WalkedColumns walked, DateTimeOffset ts)
    {
        foreach (var index in InterfaceIndexes(walked).Order(StringComparer.Ordinal))
        {
            var labels = InterfaceLabels(walked, index);
            foreach (var (column, name) in InterfaceGauges)
            {
                if (walked[column].TryGetValue(index, out var value) && value.AsNumber() is { } number)
                {
                    metrics.Add(new PluginMetric(name, number, labels, ts));
                }
            }

            if (Speed(walked, index) is { } speed)
            {
                metrics.Add(new PluginMetric("if_speed_bits", speed, labels, ts));
            }

            foreach (var (wide, narrow, name) in InterfaceCounters)
            {
                if ((CounterValue(walked, wide, index) ?? CounterValue(walked, narrow, index)) is { } counter)
                {
                    metrics.Add(new PluginMetric(name, counter.Value, labels, ts, Counter, counter.Bits));
                }
            }
        }
    }

    private static (double Value, int Bits)? CounterValue(WalkedColumns walked, ObjectIdentifier? column, string index) =>
        column is not null && walked[column].TryGetValue(index, out var value) && value.AsNumber() is { } number
            ? (number, value.Type == SnmpType.Counter64 ? 64 : 32)
            : null;

    /// <summary>ifSpeed is exact below its 4,294,967,295 ceiling; at it (or without it) ifHighSpeed in Mbit/s.</summary>
    private static double? Speed(WalkedColumns walked, string index)
    {
        var low = walked[Oids.IfSpeed].TryGetValue(index, out var s) ? s.AsNumber() : null;
        var high = walked[Oids.IfHighSpeed].TryGetValue(index, out var h) ? h.AsNumber() : null;
        return low is { } bits && (bits < uint.MaxValue || high is null) ? bits : high * 1_000_000;
    }

    private static Dictionary<string, string> InterfaceLabels(WalkedColumns walked, string index)
    {
        var name = walked[Oids.IfName].TryGetValue(index, out var n) && n.AsText() is { Length: > 0 } text ? text : $"if{index}";
        var labels = new Dictionary<string, string> { ["interface"] = name, ["if_index"] = index };
        // Only a set alias becomes a label, so interfaces without one keep the series they had before aliases were read.
        if (walked[Oids.IfAlias].TryGetValue(index, out var a) && a.AsText() is { Length: > 0 } alias)
        {
            labels["alias"] = alias;
        }

        return labels;
    }

    private static HashSet<string> InterfaceIndexes(WalkedColumns walked)
    {
        var indexes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var column in InterfaceGauges.Select(g => g.Column).Concat(InterfaceCounters.Select(c => c.Narrow)).Append(Oids.IfName))
        {
            indexes.UnionWith(walked[column].Keys);
        }

        foreach (var column in Oids.Counter64Columns)
        {
            indexes.UnionWith(walked[column].Keys);
        }

        return indexes;
    }

    private static void AddHostResources(List<PluginMetric> metrics, WalkedColumns walked, DateTimeOffset ts)
    {
        foreach (var (index, value) in walked[Oids.HrProcessorLoad].OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (value.AsNumber() is { } load)
            {
                metrics.Add(new PluginMetric("cpu_load_percent", load, new Dictionary<string, string> { ["cpu"] = index }, ts));
            }
        }

        var units = walked[Oids.HrStorageAllocationUnits];
        var sizes = walked[Oids.HrStorageSize];
        var used = walked[Oids.HrStorageUsed];
        foreach (var (index, descr) in walked[Oids.HrStorageDescr].OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!units.TryGetValue(index, out var unitsValue) || unitsValue.AsNumber() is not { } unit
                || !sizes.TryGetValue(index, out var sizeValue) || sizeValue.AsNumber() is not { } size)
            {
                continue;
            }

            var labels = new Dictionary<string, string> { ["storage"] = descr.AsText() ?? index };
            metrics.Add(new PluginMetric("storage_size_bytes", size * unit, labels, ts));
            if (used.TryGetValue(index, out var usedValue) && usedValue.AsNumber() is { } usedUnits)
            {
                metrics.Add(new PluginMetric("storage_used_bytes", usedUnits * unit, labels, ts));
            }
        }
    }
}
