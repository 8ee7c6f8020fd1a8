using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Nms.Core.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Nms.Core.Data;
using Npgsql;
using NpgsqlTypes;

namespace Nms.Core.Metrics;

/// <summary>
/// Moves each series' closed windows from the hot table into one encoded block per series and window
/// (<see cref="MetricsBlockCodec"/>), writing the window's 5-minute and 1-hour rollups beside it.
/// One transaction per window and group of devices: the hot rows are deleted by the statement that
/// reads them, so a failure anywhere rolls back to hot rows and no block, and a rerun finds nothing.
/// Windows are taken once they closed <see cref="HotFor"/> ago: the newest 3 hours stay hot (CONTRACTS.md).
/// Rows of a late batch for a compacted window (up to raw retention late) are merged into its block by a later run.
/// Then rollup spans wholly before the watermark are encoded (<see cref="MetricsRollupEncoder"/>), under the same lock.
/// </summary>
public sealed partial class MetricsCompactor(
    [FromKeyedServices(NmsDataSources.ApiKey)] NpgsqlDataSource dataSource,
    MetricsPartitions partitions,
    MetricsOptions options,
    TimeProvider time,
    ILogger<MetricsCompactor> logger)
{
    public static readonly TimeSpan HotFor = TimeSpan.FromHours(3);

    private readonly MetricsRollupEncoder rollups = new(dataSource, partitions, options);

    /// <summary>
    /// How far before the watermark late rows are looked for: the whole raw retention, so a batch that
    /// arrives days late is merged into its window's block (and rollups) instead of staying hot. Older
    /// rows are in partitions retention drops. The BRIN index keeps the look cheap: compacted days' hot
    /// partitions are empty.
    /// </summary>
    public TimeSpan StragglerLookback => TimeSpan.FromDays(Math.Max(1, options.RawRetentionDays));

    public TimeSpan Window => TimeSpan.FromMinutes(Math.Max(60, options.CompactionWindowMinutes));

    public async Task<CompactionResult> CompactAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await using var session = await dataSource.OpenConnectionAsync(cancellationToken);
        if (!await ScalarAsync<bool>(session, MetricsSql.TryLockCompaction, cancellationToken))
        {
            LogBusy();
            return new CompactionResult(0, 0, 0);
        }

        try
        {
            var result = await CompactDueWindowsAsync(session, cancellationToken);
            if (await ScalarAsync<DateTime?>(session, MetricsSql.CompactedUntil, cancellationToken) is { } watermark)
            {
                result = result with { RollupSpans = await rollups.EncodeClosedSpansAsync(new DateTimeOffset(watermark, TimeSpan.Zero), cancellationToken) };
            }

            LogCompacted(result.Windows, result.Samples, result.Blocks, result.RollupSpans, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return result;
        }
        finally
        {
            await using var unlock = new NpgsqlCommand(MetricsSql.UnlockCompaction, session);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private async Task<CompactionResult> CompactDueWindowsAsync(NpgsqlConnection session, CancellationToken cancellationToken)
    {
        var window = Window;
        var closedBefore = time.GetUtcNow() - HotFor;
        var watermark = await ScalarAsync<DateTime?>(session, MetricsSql.CompactedUntil, cancellationToken);
        var start = watermark is { } w
            ? new DateTimeOffset(w, TimeSpan.Zero)
            : await ScalarAsync<DateTime?>(session, MetricsSql.OldestHotSample, cancellationToken) is { } oldest
                ? Floor(new DateTimeOffset(oldest, TimeSpan.Zero), window)
                : Floor(closedBefore, window);

        var total = new CompactionResult(0, 0, 0);
        if (watermark is not null)
        {
            foreach (var late in await StragglerWindowsAsync(session, start - StragglerLookback, start, window, cancellationToken))
            {
                total += await CompactWindowAsync(late, cancellationToken);
            }
        }

        for (var windowStart = start; windowStart + window <= closedBefore; windowStart += window)
        {
            total += await CompactWindowAsync(windowStart, cancellationToken);
            await using var advance = new NpgsqlCommand(MetricsSql.SetCompactedUntil, session);
            advance.Parameters.Add(new NpgsqlParameter { Value = (windowStart + window).UtcDateTime });
            advance.Parameters.Add(new NpgsqlParameter { Value = time.GetUtcNow().UtcDateTime });
            await advance.ExecuteNonQueryAsync(cancellationToken);
        }

        return total;
    }

    /// <summary>Compacts one window for every device, a group of devices per transaction.</summary>
    public async Task<CompactionResult> CompactWindowAsync(DateTimeOffset windowStart, CancellationToken cancellationToken)
    {
        await partitions.EnsureAsync(partitions.Blocks, [windowStart], cancellationToken);
        await partitions.EnsureAsync(partitions.BlockTimes, [windowStart], cancellationToken);
        await partitions.EnsureAsync(partitions.Rollups5m, [windowStart], cancellationToken);
        await partitions.EnsureAsync(partitions.Rollups1h, [windowStart], cancellationToken);

        long minDevice, maxDevice;
        await using (var range = dataSource.CreateCommand(MetricsSql.DeviceRange))
        await using (var reader = await range.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            if (reader.IsDBNull(0))
            {
                return new CompactionResult(1, 0, 0);
            }

            (minDevice, maxDevice) = (reader.GetInt64(0), reader.GetInt64(1));
        }

        var step = Math.Max(1, options.CompactionDevicesPerTransaction);
        var result = new CompactionResult(1, 0, 0);
        for (var lo = minDevice; lo <= maxDevice; lo += step)
        {
            result += await CompactChunkAsync(lo, lo + step, windowStart, cancellationToken);
        }

        return result;
    }

    private async Task<CompactionResult> CompactChunkAsync(long fromDevice, long toDevice, DateTimeOffset windowStart, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var chunk = new Chunk(connection, fromDevice, toDevice, windowStart);
        var series = await TakeHotRowsAsync(chunk, cancellationToken);
        if (series.Count == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            return new CompactionResult(0, 0, 0);
        }

        var sharedTimes = await SharedTimesAsync(chunk, cancellationToken);
        await MergeExistingBlocksAsync(chunk, series, sharedTimes, cancellationToken);
        var blocks = series.Values.ToList();
        foreach (var block in blocks)
        {
            block.Points.Sort((a, b) => a.Micros.CompareTo(b.Micros));
        }

        await InsertNewSharedTimesAsync(chunk, blocks, sharedTimes, cancellationToken);
        await InsertBlocksAsync(chunk, blocks, sharedTimes, cancellationToken);
        await InsertRollupsAsync(chunk, blocks, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new CompactionResult(0, blocks.Sum(b => b.Points.Count), blocks.Count);
    }

    private async Task<Dictionary<long, SeriesPoints>> TakeHotRowsAsync(Chunk chunk, CancellationToken cancellationToken)
    {
        var series = new Dictionary<long, SeriesPoints>();
        await using var take = chunk.Command(MetricsSql.TakeHotRows);
        take.Parameters.Add(new NpgsqlParameter { Value = chunk.WindowStart.UtcDateTime });
        take.Parameters.Add(new NpgsqlParameter { Value = (chunk.WindowStart + Window).UtcDateTime });
        await using var reader = await take.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var device = reader.GetInt64(0);
            var micros = MetricsTime.ToMicros(reader.GetDateTime(1));
            var ids = reader.GetFieldValue<long[]>(2);
            var values = reader.GetFieldValue<double[]>(3);
            for (var i = 0; i < ids.Length; i++)
            {
                if (!series.TryGetValue(ids[i], out var points))
                {
                    points = new SeriesPoints(device, ids[i], []);
                    series[ids[i]] = points;
                }

                points.Points.Add(new MetricsTime.Point(micros, values[i]));
            }
        }

        return series;
    }

    /// <summary>The chunk's devices' shared timestamps already stored for this window (a late batch), as bytes and decoded.</summary>
    private static async Task<Dictionary<long, (byte[] Data, long[] Micros)>> SharedTimesAsync(Chunk chunk, CancellationToken cancellationToken)
    {
        var shared = new Dictionary<long, (byte[], long[])>();
        await using var select = chunk.Command(MetricsSql.BlockTimes);
        select.Parameters.Add(new NpgsqlParameter { Value = chunk.WindowStart.UtcDateTime });
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var data = (byte[])reader.GetValue(1);
            shared[reader.GetInt64(0)] = (data, MetricsBlockCodec.DecodeTimes(data));
        }

        return shared;
    }

    /// <summary>Per device without shared times yet: the timestamps most of its series have, if two or more share them.</summary>
    private static async Task InsertNewSharedTimesAsync(Chunk chunk, List<SeriesPoints> blocks, Dictionary<long, (byte[] Data, long[] Micros)> shared, CancellationToken cancellationToken)
    {
        var added = new List<(long Device, byte[] Data)>();
        foreach (var device in blocks.GroupBy(b => b.DeviceId).Where(d => !shared.ContainsKey(d.Key)))
        {
            var common = device
                .Select(b => b.Points.Select(p => p.Micros).ToArray())
                .GroupBy(m => m, TimesComparer.Instance)
                .OrderByDescending(g => g.Count())
                .First();
            if (common.Count() >= 2)
            {
                var data = MetricsBlockCodec.EncodeTimes(common.Key);
                shared[device.Key] = (data, common.Key);
                added.Add((device.Key, data));
            }
        }

        if (added.Count == 0)
        {
            return;
        }

        await using var insert = new NpgsqlCommand(MetricsSql.InsertBlockTimes, chunk.Connection);
        insert.Parameters.Add(new NpgsqlParameter { Value = added.Select(a => a.Device).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = chunk.WindowStart.UtcDateTime });
        insert.Parameters.Add(new NpgsqlParameter { Value = added.Select(a => a.Data).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>A late batch: the window's block of a series is decoded into its new rows and replaced.</summary>
    private static async Task MergeExistingBlocksAsync(Chunk chunk, Dictionary<long, SeriesPoints> series, Dictionary<long, (byte[] Data, long[] Micros)> sharedTimes, CancellationToken cancellationToken)
    {
        await using var take = chunk.Command(MetricsSql.TakeBlocks);
        take.Parameters.Add(new NpgsqlParameter { Value = series.Keys.ToArray() });
        take.Parameters.Add(new NpgsqlParameter { Value = chunk.WindowStart.UtcDateTime });
        await using var reader = await take.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var owner = series[reader.GetInt64(0)];
            var (micros, values) = MetricsBlockCodec.Decode((byte[])reader.GetValue(1), sharedTimes.TryGetValue(owner.DeviceId, out var times) ? times.Data : default);
            var points = owner.Points;
            for (var i = 0; i < micros.Length; i++)
            {
                points.Add(new MetricsTime.Point(micros[i], values[i]));
            }
        }
    }

    private static async Task InsertBlocksAsync(Chunk chunk, List<SeriesPoints> blocks, Dictionary<long, (byte[] Data, long[] Micros)> sharedTimes, CancellationToken cancellationToken)
    {
        var encoded = blocks.Select(b => Encode(b, sharedTimes.TryGetValue(b.DeviceId, out var times) ? times.Micros : null)).ToArray();
        await using var insert = new NpgsqlCommand(MetricsSql.InsertBlocks, chunk.Connection);
        insert.Parameters.Add(new NpgsqlParameter { Value = blocks.Select(b => b.DeviceId).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = blocks.Select(b => b.SeriesId).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = chunk.WindowStart.UtcDateTime });
        insert.Parameters.Add(new NpgsqlParameter { Value = blocks.Select(b => MetricsTime.FromMicros(b.Points[0].Micros)).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = blocks.Select(b => MetricsTime.FromMicros(b.Points[^1].Micros)).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = blocks.Select(b => b.Points.Count).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = blocks.Select(b => b.Points[^1].Value).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = encoded, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        await insert.ExecuteNonQueryAsync(cancellationToken);

        await using var seen = new NpgsqlCommand(MetricsSql.RaiseLastSeen, chunk.Connection);
        seen.Parameters.Add(new NpgsqlParameter { Value = blocks.Select(b => b.DeviceId).ToArray() });
        seen.Parameters.Add(new NpgsqlParameter { Value = blocks.Select(b => b.SeriesId).ToArray() });
        seen.Parameters.Add(new NpgsqlParameter { Value = blocks.Select(b => MetricsTime.FromMicros(b.Points[^1].Micros)).ToArray() });
        await seen.ExecuteNonQueryAsync(cancellationToken);
    }

    private static byte[] Encode(SeriesPoints block, long[]? sharedTimes)
    {
        var micros = block.Points.Select(p => p.Micros).ToArray();
        var values = block.Points.Select(p => p.Value).ToArray();
        return sharedTimes is not null && micros.AsSpan().SequenceEqual(sharedTimes)
            ? MetricsBlockCodec.EncodeValues(values)
            : MetricsBlockCodec.Encode(micros, values);
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "MetricsSql.InsertRollups is built from constants.")]
    private static async Task InsertRollupsAsync(Chunk chunk, List<SeriesPoints> blocks, CancellationToken cancellationToken)
    {
        var ids = blocks.Select(b => b.SeriesId).ToArray();
        var previousIds = new List<long>();
        var previousValues = new List<double>();
        var previousTimes = new List<DateTime>();
        await using (var previous = chunk.Command(MetricsSql.PreviousSamples))
        {
            previous.Parameters.Add(new NpgsqlParameter { Value = ids });
            previous.Parameters.Add(new NpgsqlParameter { Value = chunk.WindowStart.UtcDateTime });
            await using var reader = await previous.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                previousIds.Add(reader.GetInt64(0));
                previousValues.Add(reader.GetDouble(1));
                previousTimes.Add(reader.GetDateTime(2));
            }
        }

        await using var insert = new NpgsqlCommand(MetricsSql.InsertRollups, chunk.Connection);
        insert.Parameters.Add(new NpgsqlParameter { Value = blocks.SelectMany(b => b.Points.Select(_ => b.DeviceId)).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = blocks.SelectMany(b => b.Points.Select(_ => b.SeriesId)).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = blocks.SelectMany(b => b.Points.Select(p => MetricsTime.FromMicros(p.Micros))).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = blocks.SelectMany(b => b.Points.Select(p => p.Value)).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = previousIds.ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = previousValues.ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = previousTimes.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<IReadOnlyList<DateTimeOffset>> StragglerWindowsAsync(NpgsqlConnection session, DateTimeOffset from, DateTimeOffset to, TimeSpan window, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(MetricsSql.StragglerWindows, session);
        command.Parameters.Add(new NpgsqlParameter { Value = from.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = to.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = window });
        var windows = new List<DateTimeOffset>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            windows.Add(new DateTimeOffset(reader.GetDateTime(0), TimeSpan.Zero));
        }

        return windows;
    }

    private static DateTimeOffset Floor(DateTimeOffset at, TimeSpan window)
    {
        var origin = MetricsTime.Origin;
        return origin + TimeSpan.FromTicks((at - origin).Ticks / window.Ticks * window.Ticks);
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "Only MetricsSql constants.")]
    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is DBNull or null ? default! : (T)value;
    }

    /// <summary>One transaction's share of a window: devices [From, To).</summary>
    private sealed record Chunk(NpgsqlConnection Connection, long FromDevice, long ToDevice, DateTimeOffset WindowStart)
    {
        /// <summary>A command on the chunk's connection with $1 and $2 bound to its device range.</summary>
        [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "Only MetricsSql constants.")]
        public NpgsqlCommand Command(string sql)
        {
            var command = new NpgsqlCommand(sql, Connection);
            command.Parameters.Add(new NpgsqlParameter { Value = FromDevice });
            command.Parameters.Add(new NpgsqlParameter { Value = ToDevice });
            return command;
        }
    }

    private sealed class TimesComparer : IEqualityComparer<long[]>
    {
        public static readonly TimesComparer Instance = new();

        public bool Equals(long[]? x, long[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(long[] obj)
        {
            var hash = new HashCode();
            hash.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(obj.AsSpan()));
            return hash.ToHashCode();
        }
    }

    private sealed record SeriesPoints(long DeviceId, long SeriesId, List<MetricsTime.Point> Points);

    [LoggerMessage(Level = LogLevel.Information, Message = "Metrics compaction already running elsewhere; skipped")]
    private partial void LogBusy();

    [LoggerMessage(Level = LogLevel.Information, Message = "Metrics compaction: {Windows} windows, {Samples} samples into {Blocks} blocks, {RollupSpans} rollup spans encoded, in {DurationMs:F0} ms")]
    private partial void LogCompacted(int windows, long samples, int blocks, int rollupSpans, double durationMs);
}

/// <summary>What a compaction run did; <see cref="RollupSpans"/>: series spans of rollups encoded (<see cref="MetricsRollupEncoder"/>).</summary>
public sealed record CompactionResult(int Windows, long Samples, int Blocks, int RollupSpans = 0)
{
    public static CompactionResult operator +(CompactionResult a, CompactionResult b) => new(a.Windows + b.Windows, a.Samples + b.Samples, a.Blocks + b.Blocks, a.RollupSpans + b.RollupSpans);
}
