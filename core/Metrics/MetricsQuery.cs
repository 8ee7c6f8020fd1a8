using System.Text.Json;
using Nms.Core.Api;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Npgsql;
using NpgsqlTypes;

namespace Nms.Core.Metrics;

/// <summary>One series: a metric name and its labels, kept apart.</summary>
public sealed record MetricSeries(string Name, IReadOnlyDictionary<string, string> Labels, string Kind, IReadOnlyList<MetricPoint> Points);

/// <summary>A raw sample or one function's value per bucket (<see cref="Value"/>), or avg/min/max/count buckets.</summary>
public sealed record MetricPoint(DateTimeOffset Ts, double? Value = null, double? Avg = null, double? Min = null, double? Max = null, long? Count = null);

public sealed record MetricsResponse(long DeviceId, DateTimeOffset From, DateTimeOffset To, int? StepSeconds, string Fn, string Tier, bool Truncated, IReadOnlyList<MetricSeries> Series);

public sealed record LatestMetric(string Name, IReadOnlyDictionary<string, string> Labels, DateTimeOffset Ts, double Value);

public sealed record LatestMetricsResponse(long DeviceId, DateTimeOffset Since, bool Truncated, IReadOnlyList<LatestMetric> Metrics);

public sealed record SeriesInfo(string Name, IReadOnlyDictionary<string, string> Labels, string Kind, int? CounterBits, DateTimeOffset FirstSeenAt, DateTimeOffset LastSeenAt);

public sealed record SeriesListResponse(long DeviceId, bool Truncated, IReadOnlyList<SeriesInfo> Series);

/// <summary>
/// The metrics API's reads, on the API pool, across hot rows, compacted blocks and rollups. Stepped
/// queries on a rollup tier read rollups up to compaction's watermark and raw samples after it.
/// rate/increase: see <see cref="MetricsCounter"/> and docs/metrics.md (no extrapolation).
/// </summary>
public sealed class MetricsQuery(NmsDataSources data, MetricsOptions options, TimeProvider time)
{
    public static readonly TimeSpan DefaultLatestLookback = TimeSpan.FromDays(1);

    /// <summary>How far before <c>from</c> the sample that starts the first interval may be.</summary>
    public static readonly TimeSpan RateLeadIn = TimeSpan.FromHours(1);

    private TimeSpan Window => TimeSpan.FromMinutes(Math.Max(60, options.CompactionWindowMinutes));

    public MetricsRequest Parse(IEnumerable<KeyValuePair<string, string?>> query) => MetricsRequest.Parse(query, options, time.GetUtcNow());

    public async Task<MetricsResponse> SeriesAsync(long deviceId, MetricsRequest request, CancellationToken cancellationToken)
    {
        var (series, compactedUntil) = await MatchSeriesAsync(deviceId, request, cancellationToken);
        var (answer, truncated) = series.Count == 0 ? ([], false)
            : request.Function == MetricsFunction.Raw ? await RawAsync(deviceId, series, request, cancellationToken)
            : (await BucketedAsync(deviceId, series, request, compactedUntil, cancellationToken), false);
        return new MetricsResponse(deviceId, request.From, request.To, request.StepSeconds, Snake(request.Function), TierName(request.Tier), truncated, answer);
    }

    public async Task<SeriesListResponse> SeriesListAsync(long deviceId, CancellationToken cancellationToken)
    {
        await EnsureDeviceAsync(deviceId, cancellationToken);
        var limit = Math.Max(1, options.MaxRowsPerQuery);
        await using var command = data.Api.CreateCommand(MetricsSql.SeriesList);
        command.Parameters.Add(new NpgsqlParameter { Value = deviceId });
        command.Parameters.Add(new NpgsqlParameter { Value = limit + 1 });
        var list = new List<SeriesInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new SeriesInfo(
                reader.GetString(0), ParseLabels(reader.GetString(1)), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetInt16(3),
                new DateTimeOffset(reader.GetDateTime(4), TimeSpan.Zero), new DateTimeOffset(reader.GetDateTime(5), TimeSpan.Zero)));
        }

        var truncated = list.Count > limit;
        return new SeriesListResponse(deviceId, truncated, truncated ? list[..limit] : list);
    }

    public async Task<LatestMetricsResponse> LatestAsync(long deviceId, string? since, CancellationToken cancellationToken)
    {
        var sinceValue = MetricsRequest.ParseTime("since", since) ?? time.GetUtcNow() - DefaultLatestLookback;
        await EnsureDeviceAsync(deviceId, cancellationToken);
        var limit = Math.Max(1, options.MaxRowsPerQuery);
        await using var command = data.Api.CreateCommand(MetricsSql.Latest);
        command.Parameters.Add(new NpgsqlParameter { Value = deviceId });
        command.Parameters.Add(new NpgsqlParameter { Value = sinceValue.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = limit + 1 });
        command.Parameters.Add(new NpgsqlParameter { Value = Window });
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

    private async Task<(IReadOnlyList<MetricSeries>, bool)> RawAsync(long deviceId, List<SeriesRef> series, MetricsRequest request, CancellationToken cancellationToken)
    {
        var points = await RawPointsAsync(deviceId, series, request.From, request.To, cancellationToken);
        var budget = Math.Max(1, options.MaxRowsPerQuery);
        var truncated = false;
        var result = new List<MetricSeries>();
        foreach (var s in series)
        {
            var mine = points.GetValueOrDefault(s.Id) ?? [];
            if (mine.Count == 0)
            {
                continue;
            }

            if (mine.Count > budget)
            {
                mine = mine[..budget];
                truncated = true;
            }

            budget -= mine.Count;
            result.Add(s.With(mine.Select(p => new MetricPoint(new DateTimeOffset(MetricsTime.FromMicros(p.Micros)), Value: p.Value)).ToList()));
            if (budget == 0)
            {
                truncated |= series.SkipWhile(x => x != s).Skip(1).Any(x => points.GetValueOrDefault(x.Id)?.Count > 0);
                break;
            }
        }

        return (result, truncated);
    }

    private async Task<IReadOnlyList<MetricSeries>> BucketedAsync(long deviceId, List<SeriesRef> series, MetricsRequest request, DateTimeOffset? compactedUntil, CancellationToken cancellationToken)
    {
        var step = TimeSpan.FromSeconds(request.StepSeconds!.Value);
        var rollupsUntil = request.Tier == MetricsTierName.Raw ? request.From : RollupsUntil(request, compactedUntil);
        var buckets = series.ToDictionary(s => s.Id, _ => new SortedDictionary<DateTime, Bucket>());
        if (rollupsUntil > request.From)
        {
            await AddRollupsAsync(deviceId, series, request, rollupsUntil, step, buckets, cancellationToken);
        }

        if (rollupsUntil < request.To)
        {
            await AddRawAsync(deviceId, series, request, rollupsUntil, step, buckets, cancellationToken);
        }

        return series
            .Select(s => s.With(buckets[s.Id].Select(b => ToPoint(b.Key, b.Value, request.Function)).OfType<MetricPoint>().ToList()))
            .Where(s => s.Points.Count > 0)
            .ToList();
    }

    /// <summary>Rollups cover what compaction has done: up to its watermark, within the asked range.</summary>
    private static DateTimeOffset RollupsUntil(MetricsRequest request, DateTimeOffset? compactedUntil)
    {
        var until = compactedUntil ?? request.From;
        return until < request.From ? request.From : until > request.To ? request.To : until;
    }

    /// <summary>
    /// The tier's buckets in [from, until): encoded spans and plain rows in one round trip, a plain row
    /// winning over the encoded bucket it repeats (a late batch not merged yet), re-bucketed to the step.
    /// </summary>
    private async Task AddRollupsAsync(long deviceId, List<SeriesRef> series, MetricsRequest request, DateTimeOffset until, TimeSpan step, Dictionary<long, SortedDictionary<DateTime, Bucket>> buckets, CancellationToken cancellationToken)
    {
        var tier = request.Tier == MetricsTierName.Rollup1h ? MetricsRollupTier.OneHour : MetricsRollupTier.FiveMinutes;
        var ids = series.Select(s => s.Id).ToArray();
        var tierBuckets = series.ToDictionary(s => s.Id, _ => new Dictionary<long, RollupBucket>());
        var (fromMicros, untilMicros) = (MetricsTime.ToMicros(request.From.UtcDateTime), MetricsTime.ToMicros(until.UtcDateTime));
        await using var batch = data.Api.CreateBatch();
        var encoded = new NpgsqlBatchCommand(tier.Sql(MetricsSql.RollupBlocks));
        var plain = new NpgsqlBatchCommand(tier.Sql(MetricsSql.PlainRollups));
        foreach (var command in new[] { encoded, plain })
        {
            command.Parameters.Add(new NpgsqlParameter { Value = deviceId });
            command.Parameters.Add(new NpgsqlParameter { Value = ids });
            command.Parameters.Add(new NpgsqlParameter { Value = request.From.UtcDateTime });
            command.Parameters.Add(new NpgsqlParameter { Value = until.UtcDateTime });
            batch.BatchCommands.Add(command);
        }

        encoded.Parameters.Add(new NpgsqlParameter { Value = tier.Span });
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var mine = tierBuckets[reader.GetInt64(0)];
                foreach (var b in MetricsRollupCodec.Decode((byte[])reader.GetValue(1)))
                {
                    if (b.Micros >= fromMicros && b.Micros < untilMicros)
                    {
                        mine[b.Micros] = b;
                    }
                }
            }

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var b = MetricsRollupEncoder.ReadPlain(reader, 1);
                tierBuckets[reader.GetInt64(0)][b.Micros] = b;
            }
        }

        foreach (var (id, mine) in tierBuckets)
        {
            foreach (var b in mine.Values)
            {
                Merge(buckets[id], Floor(MetricsTime.FromMicros(b.Micros), step), new Bucket(b.Count, b.Min, b.Max, b.Sum, b.Last, b.Micros, b.Increase, b.Seconds));
            }
        }
    }

    /// <summary>Raw samples in [from, to) bucketed here, rate/increase deltas too (<see cref="MetricsCounter"/>).</summary>
    private async Task AddRawAsync(long deviceId, List<SeriesRef> series, MetricsRequest request, DateTimeOffset from, TimeSpan step, Dictionary<long, SortedDictionary<DateTime, Bucket>> buckets, CancellationToken cancellationToken)
    {
        var counting = request.Function is MetricsFunction.Rate or MetricsFunction.Increase;
        var points = await RawPointsAsync(deviceId, series, counting ? from - RateLeadIn : from, request.To, cancellationToken);
        var fromMicros = MetricsTime.ToMicros(from.UtcDateTime);
        foreach (var (id, list) in points)
        {
            foreach (var p in list.Where(p => p.Micros >= fromMicros))
            {
                Merge(buckets[id], Floor(MetricsTime.FromMicros(p.Micros), step), new Bucket(1, p.Value, p.Value, p.Value, p.Value, p.Micros, null, null));
            }
        }

        if (counting)
        {
            AddIncreases(series, points, from, step, buckets);
        }
    }

    /// <summary>Per bucket, the increase over the intervals ending in it and their length (see docs/metrics.md).</summary>
    private static void AddIncreases(List<SeriesRef> series, Dictionary<long, List<MetricsTime.Point>> points, DateTimeOffset from, TimeSpan step, Dictionary<long, SortedDictionary<DateTime, Bucket>> buckets)
    {
        var fromMicros = MetricsTime.ToMicros(from.UtcDateTime);
        foreach (var s in series)
        {
            var list = points[s.Id];
            var counter = s.Kind == "counter";
            for (var i = 1; i < list.Count; i++)
            {
                var (previous, current) = (list[i - 1], list[i]);
                if (current.Micros < fromMicros)
                {
                    continue;
                }

                var delta = counter ? MetricsCounter.Delta(previous.Value, current.Value, s.CounterBits) : current.Value - previous.Value;
                var seconds = (current.Micros - previous.Micros) / 1e6;
                Merge(buckets[s.Id], Floor(MetricsTime.FromMicros(current.Micros), step), Bucket.Empty with { Increase = delta, Seconds = seconds });
            }
        }
    }

    /// <summary>Samples of these series in [from, to), from hot rows and decoded blocks, in time order.</summary>
    private async Task<Dictionary<long, List<MetricsTime.Point>>> RawPointsAsync(long deviceId, List<SeriesRef> series, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var ids = series.Select(s => s.Id).ToArray();
        var points = series.ToDictionary(s => s.Id, _ => new List<MetricsTime.Point>());
        var (fromMicros, toMicros) = (MetricsTime.ToMicros(from.UtcDateTime), MetricsTime.ToMicros(to.UtcDateTime));
        await using var batch = data.Api.CreateBatch();
        var hot = new NpgsqlBatchCommand(MetricsSql.HotRows);
        var blocks = new NpgsqlBatchCommand(MetricsSql.Blocks);
        foreach (var command in new[] { hot, blocks })
        {
            command.Parameters.Add(new NpgsqlParameter { Value = deviceId });
            command.Parameters.Add(new NpgsqlParameter { Value = ids });
            command.Parameters.Add(new NpgsqlParameter { Value = from.UtcDateTime });
            command.Parameters.Add(new NpgsqlParameter { Value = to.UtcDateTime });
            batch.BatchCommands.Add(command);
        }

        blocks.Parameters.Add(new NpgsqlParameter { Value = Window });
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                points[reader.GetInt64(0)].Add(new MetricsTime.Point(MetricsTime.ToMicros(reader.GetDateTime(1)), reader.GetDouble(2)));
            }

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var list = points[reader.GetInt64(0)];
                var (micros, values) = MetricsBlockCodec.Decode((byte[])reader.GetValue(1), reader.IsDBNull(2) ? default : (byte[])reader.GetValue(2));
                for (var i = 0; i < micros.Length; i++)
                {
                    if (micros[i] >= fromMicros && micros[i] < toMicros)
                    {
                        list.Add(new MetricsTime.Point(micros[i], values[i]));
                    }
                }
            }
        }

        foreach (var list in points.Values)
        {
            list.Sort((a, b) => a.Micros.CompareTo(b.Micros));
        }

        return points;
    }

    /// <summary>
    /// The device's matching series and compaction's watermark, in one round trip with the device check
    /// (a 404 for an unknown device).
    /// </summary>
    private async Task<(List<SeriesRef> Series, DateTimeOffset? CompactedUntil)> MatchSeriesAsync(long deviceId, MetricsRequest request, CancellationToken cancellationToken)
    {
        await using var batch = data.Api.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand(MetricsSql.DeviceExists) { Parameters = { new NpgsqlParameter { Value = deviceId } } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand(MetricsSql.MatchSeries)
        {
            Parameters =
            {
                new NpgsqlParameter { Value = deviceId },
                new NpgsqlParameter { Value = (object?)request.Name ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text },
                new NpgsqlParameter { Value = request.LabelsJson, NpgsqlDbType = NpgsqlDbType.Text },
            },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand(MetricsSql.CompactedUntil));
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        if (!reader.GetBoolean(0))
        {
            throw ProblemException.NotFound($"Device {deviceId} does not exist.");
        }

        await reader.NextResultAsync(cancellationToken);
        var series = new List<SeriesRef>();
        while (await reader.ReadAsync(cancellationToken))
        {
            series.Add(new SeriesRef(reader.GetInt64(0), reader.GetString(1), ParseLabels(reader.GetString(2)), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetInt16(4)));
        }

        await reader.NextResultAsync(cancellationToken);
        DateTimeOffset? compactedUntil = await reader.ReadAsync(cancellationToken) ? new DateTimeOffset(reader.GetDateTime(0), TimeSpan.Zero) : null;
        return (series, compactedUntil);
    }

    private static void Merge(SortedDictionary<DateTime, Bucket> buckets, DateTime at, Bucket add) =>
        buckets[at] = buckets.TryGetValue(at, out var had) ? had.Plus(add) : add;

    private static DateTime Floor(DateTime at, TimeSpan step)
    {
        var origin = MetricsTime.Origin.UtcDateTime;
        return origin + TimeSpan.FromTicks((at - origin).Ticks / step.Ticks * step.Ticks);
    }

    private static MetricPoint? ToPoint(DateTime at, Bucket b, MetricsFunction function)
    {
        var ts = new DateTimeOffset(at, TimeSpan.Zero);
        return function switch
        {
            MetricsFunction.Buckets when b.Count > 0 => new MetricPoint(ts, Avg: b.Sum / b.Count, Min: b.Min, Max: b.Max, Count: b.Count),
            MetricsFunction.Avg when b.Count > 0 => new MetricPoint(ts, Value: b.Sum / b.Count),
            MetricsFunction.Min when b.Count > 0 => new MetricPoint(ts, Value: b.Min),
            MetricsFunction.Max when b.Count > 0 => new MetricPoint(ts, Value: b.Max),
            MetricsFunction.Last when b.Count > 0 => new MetricPoint(ts, Value: b.Last),
            MetricsFunction.Increase when b.Increase is { } increase => new MetricPoint(ts, Value: increase),
            MetricsFunction.Rate when b.Increase is { } increase && b.Seconds > 0 => new MetricPoint(ts, Value: increase / b.Seconds.Value),
            _ => null,
        };
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

    private static string Snake(MetricsFunction function) => function == MetricsFunction.Buckets ? "buckets" : function.ToString().ToLowerInvariant();

    private static string TierName(MetricsTierName tier) => tier switch
    {
        MetricsTierName.Rollup5m => "5m",
        MetricsTierName.Rollup1h => "1h",
        _ => "raw",
    };

    private sealed record SeriesRef(long Id, string Name, IReadOnlyDictionary<string, string> Labels, string Kind, short? CounterBits)
    {
        public MetricSeries With(IReadOnlyList<MetricPoint> points) => new(Name, Labels, Kind, points);
    }

    /// <summary>A step bucket's aggregates; <see cref="LastMicros"/> orders <see cref="Last"/> (a rollup bucket: its start, before any raw sample after the tier).</summary>
    private readonly record struct Bucket(long Count, double Min, double Max, double Sum, double Last, long LastMicros, double? Increase, double? Seconds)
    {
        public static readonly Bucket Empty = new(0, double.PositiveInfinity, double.NegativeInfinity, 0, 0, long.MinValue, null, null);

        public Bucket Plus(Bucket o) => new(
            Count + o.Count, Math.Min(Min, o.Min), Math.Max(Max, o.Max), Sum + o.Sum,
            o.LastMicros >= LastMicros && o.Count > 0 ? o.Last : Last, Math.Max(LastMicros, o.Count > 0 ? o.LastMicros : long.MinValue),
            Increase is null && o.Increase is null ? null : (Increase ?? 0) + (o.Increase ?? 0),
            Seconds is null && o.Seconds is null ? null : (Seconds ?? 0) + (o.Seconds ?? 0));
    }
}
