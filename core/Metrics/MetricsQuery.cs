using System.Globalization;
using System.Text.Json;
using Nms.Core.Api;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Npgsql;

namespace Nms.Core.Metrics;

/// <summary>One series: a metric name and its labels, kept apart.</summary>
public sealed record MetricSeries(string Name, IReadOnlyDictionary<string, string> Labels, IReadOnlyList<MetricPoint> Points);

/// <summary>A raw sample (<see cref="Value"/>) or a bucket (<see cref="Avg"/>, <see cref="Min"/>, <see cref="Max"/>, <see cref="Count"/>).</summary>
public sealed record MetricPoint(DateTimeOffset Ts, double? Value = null, double? Avg = null, double? Min = null, double? Max = null, long? Count = null);

public sealed record MetricsResponse(long DeviceId, DateTimeOffset From, DateTimeOffset To, int? StepSeconds, bool Truncated, IReadOnlyList<MetricSeries> Series);

public sealed record LatestMetric(string Name, IReadOnlyDictionary<string, string> Labels, DateTimeOffset Ts, double Value);

public sealed record LatestMetricsResponse(long DeviceId, DateTimeOffset Since, bool Truncated, IReadOnlyList<LatestMetric> Metrics);

/// <summary>
/// The metrics API's reads, on the API pool. Every query is bounded by <see cref="MetricsOptions.MaxRowsPerQuery"/>
/// rows; <c>truncated</c> says when the bound cut the answer (narrow the range or add a step).
/// </summary>
public sealed class MetricsQuery(NmsDataSources data, MetricsOptions options, TimeProvider time)
{
    public static readonly TimeSpan DefaultRange = TimeSpan.FromHours(1);
    public static readonly TimeSpan DefaultLatestLookback = TimeSpan.FromDays(1);

    /// <summary>Parses and checks the query string; throws a 400 naming the field.</summary>
    public MetricsRange ParseRange(string? name, string? from, string? to, string? step)
    {
        var toValue = ParseTime("to", to) ?? time.GetUtcNow();
        var fromValue = ParseTime("from", from) ?? toValue - DefaultRange;
        if (fromValue >= toValue)
        {
            throw ProblemException.BadRequest("from", "'from' must be before 'to'.");
        }

        int? stepSeconds = null;
        if (!string.IsNullOrEmpty(step))
        {
            stepSeconds = ParseStep(step);
            var buckets = (toValue - fromValue).TotalSeconds / stepSeconds.Value;
            if (buckets > options.MaxRowsPerQuery)
            {
                throw ProblemException.BadRequest("step", $"'step' makes {Math.Ceiling(buckets):F0} buckets; at most {options.MaxRowsPerQuery} are allowed for this range.");
            }
        }

        if (name is not null && (name.Length == 0 || name.Length > 256))
        {
            throw ProblemException.BadRequest("name", "'name' must be 1 to 256 characters.");
        }

        return new MetricsRange(name, fromValue, toValue, stepSeconds);
    }

    public async Task<MetricsResponse> SeriesAsync(long deviceId, MetricsRange range, CancellationToken cancellationToken)
    {
        await EnsureDeviceAsync(deviceId, cancellationToken);
        var limit = Math.Max(1, options.MaxRowsPerQuery);
        await using var command = data.Api.CreateCommand(range.StepSeconds is null ? MetricsSql.Raw : MetricsSql.Bucketed);
        command.Parameters.Add(new NpgsqlParameter { Value = deviceId });
        command.Parameters.Add(new NpgsqlParameter { Value = range.From.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = range.To.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)range.Name ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = limit + 1 });
        if (range.StepSeconds is { } step)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = (double)step });
        }

        var series = new Dictionary<(string, string), (IReadOnlyDictionary<string, string> Labels, List<MetricPoint> Points)>();
        var order = new List<(string, string)>();
        var rows = 0;
        var truncated = false;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (++rows > limit)
            {
                truncated = true;
                break;
            }

            var key = (reader.GetString(0), reader.GetString(1));
            if (!series.TryGetValue(key, out var entry))
            {
                entry = (ParseLabels(key.Item2), []);
                series[key] = entry;
                order.Add(key);
            }

            var ts = new DateTimeOffset(reader.GetDateTime(2), TimeSpan.Zero);
            entry.Points.Add(range.StepSeconds is null
                ? new MetricPoint(ts, Value: reader.GetDouble(3))
                : new MetricPoint(ts, Avg: reader.GetDouble(3), Min: reader.GetDouble(4), Max: reader.GetDouble(5), Count: reader.GetInt64(6)));
        }

        var result = order
            .OrderBy(k => k.Item1, StringComparer.Ordinal).ThenBy(k => k.Item2, StringComparer.Ordinal)
            .Select(k => new MetricSeries(k.Item1, series[k].Labels, series[k].Points))
            .ToList();
        return new MetricsResponse(deviceId, range.From, range.To, range.StepSeconds, truncated, result);
    }

    public async Task<LatestMetricsResponse> LatestAsync(long deviceId, string? since, CancellationToken cancellationToken)
    {
        var sinceValue = ParseTime("since", since) ?? time.GetUtcNow() - DefaultLatestLookback;
        await EnsureDeviceAsync(deviceId, cancellationToken);
        var limit = Math.Max(1, options.MaxRowsPerQuery);
        await using var command = data.Api.CreateCommand(MetricsSql.Latest);
        command.Parameters.Add(new NpgsqlParameter { Value = deviceId });
        command.Parameters.Add(new NpgsqlParameter { Value = sinceValue.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = limit + 1 });
        var metrics = new List<LatestMetric>();
        var truncated = false;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (metrics.Count == limit)
            {
                truncated = true;
                break;
            }

            metrics.Add(new LatestMetric(reader.GetString(0), ParseLabels(reader.GetString(1)), new DateTimeOffset(reader.GetDateTime(2), TimeSpan.Zero), reader.GetDouble(3)));
        }

        return new LatestMetricsResponse(deviceId, sinceValue, truncated, metrics);
    }

    private async Task EnsureDeviceAsync(long deviceId, CancellationToken cancellationToken)
    {
        await using var command = data.Api.CreateCommand(MetricsSql.DeviceExists);
        command.Parameters.Add(new NpgsqlParameter { Value = deviceId });
        if (!(bool)(await command.ExecuteScalarAsync(cancellationToken))!)
        {
            throw ProblemException.NotFound($"Device {deviceId} does not exist.");
        }
    }

    private static IReadOnlyDictionary<string, string> ParseLabels(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];

    private static DateTimeOffset? ParseTime(string field, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            return parsed;
        }

        throw ProblemException.BadRequest(field, $"'{field}' must be an ISO 8601 time, e.g. 2026-01-31T12:00:00Z.");
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

public sealed record MetricsRange(string? Name, DateTimeOffset From, DateTimeOffset To, int? StepSeconds);
