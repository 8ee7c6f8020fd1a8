using System.Globalization;
using Nms.Core.Configuration;
using Npgsql;
using NpgsqlTypes;

namespace Nms.Core.Metrics;

/// <summary>
/// A rollup tier: its plain table (one row per bucket, where compaction writes), its encoded table
/// (one row per series and span, <see cref="MetricsRollupCodec"/>) and their widths (090_metric_rollup_blocks.sql).
/// </summary>
public sealed record MetricsRollupTier(string Plain, string Encoded, TimeSpan Bucket, TimeSpan Span)
{
    public static readonly MetricsRollupTier FiveMinutes = new("metric_rollups_5m", "metric_rollup_blocks_5m", TimeSpan.FromMinutes(5), TimeSpan.FromDays(1));
    public static readonly MetricsRollupTier OneHour = new("metric_rollups_1h", "metric_rollup_blocks_1h", TimeSpan.FromHours(1), TimeSpan.FromDays(7));

    public static IReadOnlyList<MetricsRollupTier> All => [FiveMinutes, OneHour];

    /// <summary>A MetricsSql rollup statement with {0} and {1} bound to this tier's tables.</summary>
    public string Sql(string template) => string.Format(CultureInfo.InvariantCulture, template, Plain, Encoded);

    public DateTimeOffset SpanOf(DateTimeOffset at) =>
        MetricsTime.Origin + TimeSpan.FromTicks((at - MetricsTime.Origin).Ticks / Span.Ticks * Span.Ticks);
}

/// <summary>
/// Moves the plain buckets of every span wholly before compaction's watermark into that span's
/// encoded row, per series, one transaction per span and group of devices: the plain rows are deleted
/// by the statement that reads them and the encoded row they merge into is replaced in the same
/// transaction, so a failure leaves the plain rows and the old encoded row, and a rerun finds nothing.
/// Runs under compaction's advisory lock (<see cref="MetricsCompactor"/>), so a late batch's plain
/// buckets cannot be written into a span while it is being encoded.
/// </summary>
public sealed class MetricsRollupEncoder(NpgsqlDataSource dataSource, MetricsPartitions partitions, MetricsOptions options)
{
    /// <summary>Encodes every closed span of both tiers; returns the series spans written.</summary>
    public async Task<int> EncodeClosedSpansAsync(DateTimeOffset compactedUntil, CancellationToken cancellationToken)
    {
        var written = 0;
        foreach (var tier in MetricsRollupTier.All)
        {
            foreach (var span in await PlainSpansAsync(tier, tier.SpanOf(compactedUntil), cancellationToken))
            {
                written += await EncodeSpanAsync(tier, span, cancellationToken);
            }
        }

        return written;
    }

    /// <summary>One span of one tier, for every device, a group of devices per transaction.</summary>
    public async Task<int> EncodeSpanAsync(MetricsRollupTier tier, DateTimeOffset span, CancellationToken cancellationToken)
    {
        await partitions.EnsureAsync(tier == MetricsRollupTier.OneHour ? partitions.RollupBlocks1h : partitions.RollupBlocks5m, [span], cancellationToken);
        long minDevice, maxDevice;
        await using (var range = dataSource.CreateCommand(MetricsSql.DeviceRange))
        await using (var reader = await range.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            if (reader.IsDBNull(0))
            {
                return 0;
            }

            (minDevice, maxDevice) = (reader.GetInt64(0), reader.GetInt64(1));
        }

        var step = Math.Max(1, options.CompactionDevicesPerTransaction);
        var written = 0;
        for (var lo = minDevice; lo <= maxDevice; lo += step)
        {
            written += await EncodeChunkAsync(tier, lo, lo + step, span, cancellationToken);
        }

        return written;
    }

    private async Task<IReadOnlyList<DateTimeOffset>> PlainSpansAsync(MetricsRollupTier tier, DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(tier.Sql(MetricsSql.PlainRollupSpans));
        command.Parameters.Add(new NpgsqlParameter { Value = before.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = tier.Span });
        var spans = new List<DateTimeOffset>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            spans.Add(new DateTimeOffset(reader.GetDateTime(0), TimeSpan.Zero));
        }

        return spans;
    }

    private async Task<int> EncodeChunkAsync(MetricsRollupTier tier, long fromDevice, long toDevice, DateTimeOffset span, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var series = await TakePlainAsync(connection, tier, fromDevice, toDevice, span, cancellationToken);
        if (series.Count == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            return 0;
        }

        await MergeEncodedAsync(connection, tier, fromDevice, toDevice, span, series, cancellationToken);
        await InsertAsync(connection, tier, span, series.Values.ToList(), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return series.Count;
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "MetricsSql constants with the tier's table names.")]
    private static async Task<Dictionary<long, SeriesBuckets>> TakePlainAsync(NpgsqlConnection connection, MetricsRollupTier tier, long fromDevice, long toDevice, DateTimeOffset span, CancellationToken cancellationToken)
    {
        var series = new Dictionary<long, SeriesBuckets>();
        await using var take = new NpgsqlCommand(tier.Sql(MetricsSql.TakePlainRollups), connection);
        take.Parameters.Add(new NpgsqlParameter { Value = fromDevice });
        take.Parameters.Add(new NpgsqlParameter { Value = toDevice });
        take.Parameters.Add(new NpgsqlParameter { Value = span.UtcDateTime });
        take.Parameters.Add(new NpgsqlParameter { Value = (span + tier.Span).UtcDateTime });
        await using var reader = await take.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetInt64(1);
            if (!series.TryGetValue(id, out var owner))
            {
                owner = new SeriesBuckets(reader.GetInt64(0), id, []);
                series[id] = owner;
            }

            var bucket = ReadPlain(reader, 2);
            owner.Buckets[bucket.Micros] = bucket;
        }

        return series;
    }

    /// <summary>A plain rollup row's columns from <paramref name="first"/> on: bucket, count, min, max, sum, last, increase, seconds.</summary>
    public static RollupBucket ReadPlain(NpgsqlDataReader reader, int first) => new(
        MetricsTime.ToMicros(reader.GetDateTime(first)), reader.GetInt32(first + 1), reader.GetDouble(first + 2), reader.GetDouble(first + 3),
        reader.GetDouble(first + 4), reader.GetDouble(first + 5),
        reader.IsDBNull(first + 6) ? null : reader.GetDouble(first + 6), reader.IsDBNull(first + 7) ? null : reader.GetDouble(first + 7));

    /// <summary>The span's encoded rows of these series (a late batch's buckets): their buckets join the plain ones, which win.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "MetricsSql constants with the tier's table names.")]
    private static async Task MergeEncodedAsync(NpgsqlConnection connection, MetricsRollupTier tier, long fromDevice, long toDevice, DateTimeOffset span, Dictionary<long, SeriesBuckets> series, CancellationToken cancellationToken)
    {
        await using var take = new NpgsqlCommand(tier.Sql(MetricsSql.TakeRollupBlocks), connection);
        take.Parameters.Add(new NpgsqlParameter { Value = fromDevice });
        take.Parameters.Add(new NpgsqlParameter { Value = toDevice });
        take.Parameters.Add(new NpgsqlParameter { Value = series.Keys.ToArray() });
        take.Parameters.Add(new NpgsqlParameter { Value = span.UtcDateTime });
        await using var reader = await take.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var buckets = series[reader.GetInt64(0)].Buckets;
            foreach (var bucket in MetricsRollupCodec.Decode((byte[])reader.GetValue(1)))
            {
                buckets.TryAdd(bucket.Micros, bucket);
            }
        }
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "MetricsSql constants with the tier's table names.")]
    private static async Task InsertAsync(NpgsqlConnection connection, MetricsRollupTier tier, DateTimeOffset span, List<SeriesBuckets> series, CancellationToken cancellationToken)
    {
        await using var insert = new NpgsqlCommand(tier.Sql(MetricsSql.InsertRollupBlocks), connection);
        insert.Parameters.Add(new NpgsqlParameter { Value = series.Select(s => s.DeviceId).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = series.Select(s => s.SeriesId).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = span.UtcDateTime });
        insert.Parameters.Add(new NpgsqlParameter { Value = series.Select(s => s.Buckets.Count).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter
        {
            Value = series.Select(s => MetricsRollupCodec.Encode(s.Buckets.Values.ToList())).ToArray(),
            NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea,
        });
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    private sealed record SeriesBuckets(long DeviceId, long SeriesId, SortedDictionary<long, RollupBucket> Buckets);
}
