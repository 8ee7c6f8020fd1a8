using System.Globalization;
using Nms.Plugins.Sdk;
using Nms.Plugins.Snmp.Codec;

namespace Nms.Plugins.Snmp;

/// <summary>Turns the walked columns (in <see cref="Oids.PollColumns"/> order) into metrics keyed by row.</summary>
internal static class PollMetrics
{
    private static readonly (int Column, string Name)[] InterfaceCounters =
    [
        (1, "if_oper_status"),
        (2, "if_in_octets_total"),
        (3, "if_out_octets_total"),
        (4, "if_in_errors_total"),
        (5, "if_out_errors_total"),
        (6, "if_in_discards_total"),
        (7, "if_out_discards_total"),
    ];

    public static void AddWalked(List<PluginMetric> metrics, IReadOnlyList<IReadOnlyList<VarBind>> columns, DateTimeOffset ts)
    {
        var byIndex = columns.Select((rows, i) => Index(rows, Oids.PollColumns[i])).ToArray();

        var names = byIndex[0];
        var interfaces = byIndex.Take(8).SelectMany(c => c.Keys).Distinct().Order(StringComparer.Ordinal);
        foreach (var index in interfaces)
        {
            var label = names.TryGetValue(index, out var name) && name.AsText() is { Length: > 0 } text ? text : $"if{index}";
            var labels = new Dictionary<string, string> { ["interface"] = label, ["if_index"] = index };
            foreach (var (column, metric) in InterfaceCounters)
            {
                if (byIndex[column].TryGetValue(index, out var value) && value.AsNumber() is { } number)
                {
                    metrics.Add(new PluginMetric(metric, number, labels, ts));
                }
            }
        }

        foreach (var (index, value) in byIndex[8].OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (value.AsNumber() is { } load)
            {
                metrics.Add(new PluginMetric("cpu_load_percent", load, new Dictionary<string, string> { ["cpu"] = index }, ts));
            }
        }

        foreach (var (index, descr) in byIndex[9].OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!byIndex[10].TryGetValue(index, out var unitsValue) || unitsValue.AsNumber() is not { } units
                || !byIndex[11].TryGetValue(index, out var sizeValue) || sizeValue.AsNumber() is not { } size)
            {
                continue;
            }

            var labels = new Dictionary<string, string> { ["storage"] = descr.AsText() ?? index };
            metrics.Add(new PluginMetric("storage_size_bytes", size * units, labels, ts));
            if (byIndex[12].TryGetValue(index, out var usedValue) && usedValue.AsNumber() is { } used)
            {
                metrics.Add(new PluginMetric("storage_used_bytes", used * units, labels, ts));
            }
        }
    }

    private static Dictionary<string, SnmpValue> Index(IReadOnlyList<VarBind> rows, ObjectIdentifier column)
    {
        var result = new Dictionary<string, SnmpValue>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var suffix = row.Oid.Suffix(column);
            result[string.Join('.', suffix.ToArray().Select(c => c.ToString(CultureInfo.InvariantCulture)))] = row.Value;
        }

        return result;
    }
}
