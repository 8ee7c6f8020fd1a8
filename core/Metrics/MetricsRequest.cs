using System.Globalization;
using System.Text.Json;
using Nms.Core.Api;
using Nms.Core.Configuration;

namespace Nms.Core.Metrics;

/// <summary>What <c>fn</c> asks of each step bucket (<see cref="Buckets"/>: avg, min, max and count together).</summary>
public enum MetricsFunction
{
    Raw,
    Buckets,
    Avg,
    Min,
    Max,
    Last,
    Rate,
    Increase,
}

/// <summary>The tier a query reads: raw samples (hot rows and blocks) or a rollup table.</summary>
public enum MetricsTierName
{
    Raw,
    Rollup5m,
    Rollup1h,
}

/// <summary>A checked metrics query. <see cref="LabelsJson"/> is a JSON object the series' labels must contain.</summary>
public sealed record MetricsRequest(
    string? Name,
    string LabelsJson,
    DateTimeOffset From,
    DateTimeOffset To,
    int? StepSeconds,
    MetricsFunction Function,
    MetricsTierName Tier)
{
    public static readonly TimeSpan DefaultRange = TimeSpan.FromHours(1);
    public const int DefaultStepSeconds = 60;
    public const int MaxNameLength = 256;

    /// <summary>The times a query may name: every bound and lead-in computed from them stays inside DateTimeOffset's range.</summary>
    public static readonly DateTimeOffset EarliestTime = new(1970, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset LatestTime = new(9000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Parses and checks the query string; throws a 400 naming the field.</summary>
    public static MetricsRequest Parse(IEnumerable<KeyValuePair<string, string?>> query, MetricsOptions options, DateTimeOffset now)
    {
        var values = query.ToList();
        string? One(string key) => values.LastOrDefault(v => v.Key == key).Value;

        var name = One("name");
        if (name is not null && (name.Length == 0 || name.Length > MaxNameLength))
        {
            throw ProblemException.BadRequest("name", $"'name' must be 1 to {MaxNameLength} characters.");
        }

        NoNul("name", name);
        var fromGiven = ParseTime("from", One("from"));
        var to = ParseTime("to", One("to")) ?? now;
        var from = fromGiven ?? to - DefaultRange;
        if (from >= to)
        {
            throw ProblemException.BadRequest("from", "'from' must be before 'to'.");
        }

        var function = ParseFunction(One("fn"), One("step") is { Length: > 0 });
        int? step = One("step") is { Length: > 0 } s ? ParseStep(s) : function is MetricsFunction.Raw ? null : DefaultStepSeconds;
        if (step is { } seconds && function is not MetricsFunction.Raw)
        {
            var points = Math.Ceiling((to - from).TotalSeconds / seconds);
            if (points > options.MaxPointsPerSeries)
            {
                throw ProblemException.BadRequest("step", $"'step' makes {points:F0} points per series; at most {options.MaxPointsPerSeries} are allowed: use a step of at least {Math.Ceiling((to - from).TotalSeconds / options.MaxPointsPerSeries):F0} s for this range.");
            }
        }

        return new MetricsRequest(name, ParseLabels(values), from, to, function is MetricsFunction.Raw ? null : step, function, TierFor(function, step));
    }

    /// <summary>Steps of whole hours read 1-hour rollups, whole 5 minutes the 5-minute ones, anything finer raw samples.</summary>
    public static MetricsTierName TierFor(MetricsFunction function, int? step) => function == MetricsFunction.Raw || step is not { } s ? MetricsTierName.Raw
        : s % 3600 == 0 ? MetricsTierName.Rollup1h
        : s % 300 == 0 ? MetricsTierName.Rollup5m
        : MetricsTierName.Raw;

    private static MetricsFunction ParseFunction(string? fn, bool hasStep) => fn switch
    {
        null or "" => hasStep ? MetricsFunction.Buckets : MetricsFunction.Raw,
        "raw" => MetricsFunction.Raw,
        "avg" => MetricsFunction.Avg,
        "min" => MetricsFunction.Min,
        "max" => MetricsFunction.Max,
        "last" => MetricsFunction.Last,
        "rate" => MetricsFunction.Rate,
        "increase" => MetricsFunction.Increase,
        _ => throw ProblemException.BadRequest("fn", "'fn' must be one of raw, avg, min, max, last, rate, increase."),
    };

    /// <summary><c>labels[key]=value</c> matchers; anything else starting with <c>labels</c> is malformed.</summary>
    private static string ParseLabels(List<KeyValuePair<string, string?>> values)
    {
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in values.Where(v => v.Key.StartsWith("labels", StringComparison.Ordinal)))
        {
            var valid = key.Length > "labels[]".Length && key[6] == '[' && key[^1] == ']' && key.IndexOfAny(['[', ']'], 7) == key.Length - 1;
            if (!valid)
            {
                throw ProblemException.BadRequest("labels", $"'{key}' is not a label matcher: use labels[<name>]=<value>, e.g. labels[interface]=eth0.");
            }

            var label = key[7..^1];
            NoNul("labels", label);
            NoNul("labels", value);
            if (value is null || !labels.TryAdd(label, value))
            {
                throw ProblemException.BadRequest("labels", $"'{key}' must be given once, with a value.");
            }
        }

        return JsonSerializer.Serialize(labels);
    }

    public static DateTimeOffset? ParseTime(string field, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            return parsed >= EarliestTime && parsed <= LatestTime
                ? parsed
                : throw ProblemException.BadRequest(field, $"'{field}' must be between {EarliestTime:yyyy-MM-dd} and {LatestTime:yyyy-MM-dd}.");
        }

        throw ProblemException.BadRequest(field, $"'{field}' must be an ISO 8601 time, e.g. 2026-01-31T12:00:00Z.");
    }

    /// <summary>PostgreSQL text and jsonb cannot hold NUL: refused here rather than failing there.</summary>
    private static void NoNul(string field, string? value)
    {
        if (value is not null && value.Contains('\0', StringComparison.Ordinal))
        {
            throw ProblemException.BadRequest(field, $"'{field}' contains a NUL character.");
        }
    }

    /// <summary>Seconds, or a number with a unit: <c>30</c>, <c>30s</c>, <c>5m</c>, <c>1h</c>, <c>1d</c>.</summary>
    internal static int ParseStep(string step)
    {
        var unit = step[^1] switch
        {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => 0,
        };
        var digits = unit == 0 ? step : step[..^1];
        if (unit == 0)
        {
            unit = 1;
        }

        if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count <= 0 || (long)count * unit > 31 * 86400)
        {
            throw ProblemException.BadRequest("step", "'step' must be a positive duration of at most 31 days: seconds, or a number with s, m, h or d (e.g. 60, 5m).");
        }

        return count * unit;
    }
}
