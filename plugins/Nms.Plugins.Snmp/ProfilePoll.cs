using System.Globalization;
using Nms.Plugins.Sdk;
using Nms.Plugins.Snmp.Codec;

namespace Nms.Plugins.Snmp;

/// <summary>
/// A poll profile from the request envelope: GET its scalars, walk its tables (GETBULK; GETNEXT over v1), nothing else.
/// </summary>
internal static class ProfilePoll
{
    private const int MaxVarBindsPerGet = 32;

    public static async Task<List<PluginMetric>> PollAsync(SnmpSession session, PluginPollProfile profile, CancellationToken cancellationToken)
    {
        var metrics = new List<PluginMetric>();
        var scalars = (profile.Scalars ?? []).Select(s => (Object: s, Oid: Oid(s.Oid))).ToList();
        foreach (var chunk in scalars.Chunk(MaxVarBindsPerGet))
        {
            var values = await session.GetAsync(chunk.Select(s => s.Oid).ToArray(), cancellationToken).ConfigureAwait(false);
            var ts = DateTimeOffset.UtcNow;
            for (var i = 0; i < chunk.Length; i++)
            {
                AddMetric(metrics, chunk[i].Object, values[i].Value, null, ts);
            }
        }

        foreach (var table in profile.Tables ?? [])
        {
            var columns = table.Columns.Select(c => Oid(c.Oid)).ToArray();
            var lookups = (table.Lookups ?? []).Select(l => Oid(l.Oid)).ToArray();
            var walked = new WalkedColumns();
            ObjectIdentifier[] all = [.. columns, .. lookups];
            walked.Add(all, await session.WalkColumnsAsync(all, cancellationToken).ConfigureAwait(false));
            var ts = DateTimeOffset.UtcNow;
            var indexLabel = table.IndexLabel ?? "index";
            for (var c = 0; c < columns.Length; c++)
            {
                foreach (var (index, value) in walked[columns[c]].OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    var labels = new Dictionary<string, string> { [indexLabel] = index };
                    for (var l = 0; l < lookups.Length; l++)
                    {
                        if (walked[lookups[l]].TryGetValue(index, out var text) && text.AsText() is { Length: > 0 } label)
                        {
                            labels[table.Lookups![l].Label] = label;
                        }
                    }

                    AddMetric(metrics, table.Columns[c], value, labels, ts);
                }
            }
        }

        return metrics;
    }

    private static ObjectIdentifier Oid(string text)
    {
        try
        {
            return ObjectIdentifier.Parse(text);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException)
        {
            throw new ArgumentException($"poll profile: '{text}' is not an object identifier", ex);
        }
    }

    private static void AddMetric(List<PluginMetric> metrics, PluginPollObject item, SnmpValue value, Dictionary<string, string>? labels, DateTimeOffset ts)
    {
        // Numbers, and DisplayStrings that hold one (UPS and sensor MIBs, net-snmp extend output).
        var number = value.AsNumber() ?? (value.Type == SnmpType.OctetString
            && double.TryParse(value.AsText(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && double.IsFinite(parsed) ? parsed : null);
        if (value.IsException || number is not { } v)
        {
            return;
        }

        if (item.Kind == "counter")
        {
            metrics.Add(new PluginMetric(item.Metric, v, labels, ts, "counter", item.CounterBits ?? (value.Type == SnmpType.Counter64 ? 64 : 32)));
        }
        else
        {
            metrics.Add(new PluginMetric(item.Metric, v, labels, ts, item.Kind));
        }
    }
}
