using System.Globalization;
using System.Text.RegularExpressions;
using Nms.Core.Api;
using Nms.Plugins.Sdk;
using static Nms.Core.Entities.EntityValidation;

namespace Nms.Core.Entities;

/// <summary>
/// Turns a <see cref="PollProfileRequest"/> into the plugin contract's records, or a 400 naming the field
/// (<c>tables[0].columns[2].oid</c>): dotted numeric OIDs, Prometheus-style metric and label names, no metric twice,
/// at most <see cref="MaxObjects"/> objects (scalars, columns and lookups together).
/// </summary>
internal static partial class PollProfileValidation
{
    public const int MaxObjects = 256;
    public const int MaxBodyBytes = 64 * 1024;
    public const int MaxRequestsLimit = 1000;
    private const int MaxArcs = 128;
    private static readonly string[] Kinds = ["gauge", "counter"];

    public static (string Name, PollProfileDefinition Definition) Validate(PollProfileRequest request)
    {
        var name = RequiredText(request.Name, "name");
        var scalars = (request.Scalars ?? []).Select((s, i) => Object(s, $"scalars[{i}]")).ToList();
        var tables = (request.Tables ?? []).Select((t, i) => Table(t, $"tables[{i}]")).ToList();
        if (scalars.Count == 0 && tables.Count == 0)
        {
            throw ProblemException.BadRequest("scalars", "A poll profile needs at least one object in 'scalars' or 'tables'.");
        }

        var objects = scalars.Count + tables.Sum(t => t.Columns.Count + (t.Lookups?.Count ?? 0));
        if (objects > MaxObjects)
        {
            throw ProblemException.BadRequest("tables", $"A poll profile reads at most {MaxObjects} objects (scalars, columns and lookups); this one has {objects}.");
        }

        RefuseDuplicateMetrics(scalars, tables);
        if (request.MaxRequests is < 1 or > MaxRequestsLimit)
        {
            throw ProblemException.BadRequest("max_requests", $"'max_requests' must be 1-{MaxRequestsLimit}.");
        }

        return (name, new PollProfileDefinition(scalars, tables, request.MaxRequests));
    }

    private static PluginPollObject Object(PollObjectRequest? value, string field)
    {
        if (value is null)
        {
            throw ProblemException.BadRequest(field, $"'{field}' must be an object with 'oid' and 'metric'.");
        }

        var oid = Oid(value.Oid, $"{field}.oid");
        var metric = Name(value.Metric, $"{field}.metric");
        var kind = value.Kind is null ? null : OneOf(value.Kind, Kinds, $"{field}.kind");
        if (value.CounterBits is not null)
        {
            if (kind != "counter")
            {
                throw ProblemException.BadRequest($"{field}.counter_bits", $"'{field}.counter_bits' is only for \"kind\": \"counter\".");
            }

            if (value.CounterBits is not (32 or 64))
            {
                throw ProblemException.BadRequest($"{field}.counter_bits", $"'{field}.counter_bits' must be 32 or 64.");
            }
        }

        return new PluginPollObject(oid, metric, kind, value.CounterBits);
    }

    private static PluginPollTable Table(PollTableRequest? value, string field)
    {
        if (value?.Columns is not { Count: > 0 } columnRequests)
        {
            throw ProblemException.BadRequest($"{field}.columns", $"'{field}.columns' needs at least one column.");
        }

        var columns = columnRequests.Select((c, i) => Object(c, $"{field}.columns[{i}]")).ToList();
        var indexLabel = value.IndexLabel is null ? null : Name(value.IndexLabel, $"{field}.index_label");
        var labels = new HashSet<string>(StringComparer.Ordinal) { indexLabel ?? "index" };
        var lookups = new List<PluginPollLookup>();
        foreach (var (lookup, i) in (value.Lookups ?? []).Select((l, i) => (l, i)))
        {
            var at = $"{field}.lookups[{i}]";
            if (lookup is null)
            {
                throw ProblemException.BadRequest(at, $"'{at}' must be an object with 'oid' and 'label'.");
            }

            var oid = Oid(lookup.Oid, $"{at}.oid");
            var label = Name(lookup.Label, $"{at}.label");
            if (!labels.Add(label))
            {
                throw ProblemException.BadRequest($"{at}.label", $"Label '{label}' is set twice in '{field}'.");
            }

            lookups.Add(new PluginPollLookup(oid, label));
        }

        return new PluginPollTable(columns, indexLabel, lookups.Count == 0 ? null : lookups);
    }

    private static void RefuseDuplicateMetrics(IReadOnlyList<PluginPollObject> scalars, IReadOnlyList<PluginPollTable> tables)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var named = scalars.Select((s, i) => (s.Metric, Field: $"scalars[{i}].metric"))
            .Concat(tables.SelectMany((t, ti) => t.Columns.Select((c, ci) => (c.Metric, Field: $"tables[{ti}].columns[{ci}].metric"))));
        foreach (var (metric, field) in named)
        {
            if (!seen.Add(metric))
            {
                throw ProblemException.BadRequest(field, $"Metric '{metric}' is read twice in this profile.");
            }
        }
    }

    /// <summary>Dotted numeric, at least two arcs, the first 0-2 (X.660), every arc a 32-bit subidentifier as SNMP encodes them.</summary>
    public static string Oid(string? value, string field)
    {
        var oid = RequiredText(value, field, 1024);
        var arcs = oid.Split('.');
        var valid = DottedNumeric().IsMatch(oid) && arcs.Length is >= 2 and <= MaxArcs && arcs[0] is "0" or "1" or "2"
            && arcs.All(a => (a.Length == 1 || a[0] != '0') && uint.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out _));
        return valid
            ? oid
            : throw ProblemException.BadRequest(field, $"'{field}' must be a dotted numeric OID such as 1.3.6.1.2.1.1.3.0: at least two arcs, the first 0, 1 or 2, at most {MaxArcs}, each 0-4294967295 without leading zeros.");
    }

    private static string Name(string? value, string field)
    {
        var name = RequiredText(value, field);
        return MetricName().IsMatch(name)
            ? name
            : throw ProblemException.BadRequest(field, $"'{field}' must match [a-z_][a-z0-9_]*.");
    }

    [GeneratedRegex("^[0-9]+(\\.[0-9]+)+$", RegexOptions.CultureInvariant)]
    private static partial Regex DottedNumeric();

    [GeneratedRegex("^[a-z_][a-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex MetricName();
}
