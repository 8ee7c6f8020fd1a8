using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Nms.Core.Data;
using Npgsql;
using NpgsqlTypes;

namespace Nms.Core.Metrics;

/// <summary>
/// The series dictionary's ids for the writer: (device, name, labels) to <c>metric_series.id</c>,
/// created on first sight and cached for the life of the process (a series id never changes).
/// A device polled again usually sends the same series in the same order: such a poll is matched whole, by a
/// 128-bit fingerprint of its names and labels, to the ids its last polls had (one lookup per poll instead of one
/// per sample into a dictionary of every series, whose entries are cache misses at hundreds of thousands of
/// series). Other polls look each sample up by a hash of its labels as they came off the message, without
/// allocating; labels are turned into JSON only for a series not seen before.
/// </summary>
public sealed class MetricSeriesCatalog([FromKeyedServices(NmsDataSources.MetricsKey)] NpgsqlDataSource dataSource)
{
    /// <summary>Poll shapes remembered per device: a few, for devices polled by more than one plugin.</summary>
    internal const int ShapesPerDevice = 4;

    private readonly ConcurrentDictionary<SeriesKey, long> ids = new();
    private readonly ConcurrentDictionary<long, PollShape[]> shapes = new();

    /// <summary>
    /// One id per value of each poll, in the polls' order (ids[p][v] for polls[p].Values[v]). Polls of the same
    /// shape may share one array: callers only read them.
    /// </summary>
    public async Task<long[][]> IdsAsync(IReadOnlyList<MetricPoll> polls, CancellationToken cancellationToken)
    {
        var result = new long[polls.Count][];
        var fingerprints = new UInt128[polls.Count];
        Dictionary<SeriesKey, (MetricPoll Poll, MetricValue Value, List<(int Poll, int Value)> Positions)>? missing = null;
        for (var p = 0; p < polls.Count; p++)
        {
            var poll = polls[p];
            fingerprints[p] = PollFingerprint.Of(poll.Values);
            if (KnownShape(poll.DeviceId, fingerprints[p]) is { } known)
            {
                result[p] = known;
                continue;
            }

            var row = result[p] = new long[poll.Values.Count];
            for (var v = 0; v < row.Length; v++)
            {
                var key = new SeriesKey(poll.DeviceId, poll.Values[v].Name, poll.Values[v].Labels);
                if (ids.TryGetValue(key, out var id))
                {
                    row[v] = id;
                }
                else if ((missing ??= []).TryGetValue(key, out var entry))
                {
                    entry.Positions.Add((p, v));
                }
                else
                {
                    missing[key] = (poll, poll.Values[v], [(p, v)]);
                }
            }
        }

        if (missing is not null)
        {
            var firsts = missing.ToArray();
            var found = await CreateAsync(firsts.Select(f => (f.Value.Poll, f.Value.Value)).ToArray(), cancellationToken);
            for (var k = 0; k < firsts.Length; k++)
            {
                ids[firsts[k].Key] = found[k];
                foreach (var (p, v) in firsts[k].Value.Positions)
                {
                    result[p][v] = found[k];
                }
            }
        }

        for (var p = 0; p < polls.Count; p++)
        {
            RememberShape(polls[p].DeviceId, fingerprints[p], result[p]);
        }

        return result;
    }

    private long[]? KnownShape(long deviceId, UInt128 fingerprint)
    {
        if (shapes.TryGetValue(deviceId, out var known))
        {
            foreach (var shape in known)
            {
                if (shape.Fingerprint == fingerprint)
                {
                    return shape.Ids;
                }
            }
        }

        return null;
    }

    /// <summary>The newest shape first; the oldest falls out. Two writers racing on one device may lose a shape: it is only a cache.</summary>
    private void RememberShape(long deviceId, UInt128 fingerprint, long[] seriesIds)
    {
        var known = shapes.TryGetValue(deviceId, out var existing) ? existing : [];
        if (known.Length > 0 && known[0].Fingerprint == fingerprint)
        {
            return;
        }

        var kept = known.Where(s => s.Fingerprint != fingerprint).Take(ShapesPerDevice - 1);
        shapes[deviceId] = [new PollShape(fingerprint, seriesIds), .. kept];
    }

    private sealed record PollShape(UInt128 Fingerprint, long[] Ids);

    /// <summary>
    /// New series per statement: a message brings at most a few thousand, but a first write of many devices' polls
    /// at once (a backfill, the ingest bench's 3,000,000 samples) made one statement with millions of array elements.
    /// </summary>
    internal const int MaxNewSeriesPerStatement = 10_000;

    private async Task<long[]> CreateAsync((MetricPoll Poll, MetricValue Value)[] firsts, CancellationToken cancellationToken)
    {
        var found = new List<long>(firsts.Length);
        foreach (var chunk in firsts.Chunk(MaxNewSeriesPerStatement))
        {
            found.AddRange(await CreateChunkAsync(chunk, cancellationToken));
        }

        return [.. found];
    }

    private async Task<long[]> CreateChunkAsync((MetricPoll Poll, MetricValue Value)[] firsts, CancellationToken cancellationToken)
    {
        var devices = firsts.Select(f => f.Poll.DeviceId).ToArray();
        var names = firsts.Select(f => f.Value.Name).ToArray();
        var labels = firsts.Select(f => LabelsToJson(f.Value.Labels)).ToArray();
        var kinds = firsts.Select(f => MetricKinds.Resolve(f.Value.Name, f.Value.Kind, f.Value.CounterBits)).ToArray();
        await using (var insert = dataSource.CreateCommand(MetricsSql.InsertSeries))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = devices });
            insert.Parameters.Add(new NpgsqlParameter { Value = names });
            insert.Parameters.Add(new NpgsqlParameter { Value = labels });
            insert.Parameters.Add(new NpgsqlParameter { Value = kinds.Select(k => k.Kind).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = kinds.Select(k => k.CounterBits).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Smallint });
            insert.Parameters.Add(new NpgsqlParameter { Value = firsts.Select(f => f.Poll.Ts.UtcDateTime).ToArray() });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        // A new statement (a new snapshot) sees rows a concurrent writer inserted meanwhile.
        await using var select = dataSource.CreateCommand(MetricsSql.SeriesIds);
        select.Parameters.Add(new NpgsqlParameter { Value = devices });
        select.Parameters.Add(new NpgsqlParameter { Value = names });
        select.Parameters.Add(new NpgsqlParameter { Value = labels });
        var found = new long[firsts.Length];
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            found[reader.GetInt64(0) - 1] = reader.GetInt64(1);
        }

        return found;
    }

    public static string LabelsToJson(IReadOnlyDictionary<string, string>? labels)
    {
        if (labels is null || labels.Count == 0)
        {
            return "{}";
        }

        var buffer = new ArrayBufferWriter<byte>(64);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var (key, value) in labels.OrderBy(l => l.Key, StringComparer.Ordinal))
            {
                json.WriteString(key, value);
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// A series' identity with its labels as a set: equal whatever order the keys came in, so two messages'
    /// dictionaries of the same labels are one key. Missing labels and no labels are the same series.
    /// </summary>
    private readonly struct SeriesKey(long deviceId, string name, IReadOnlyDictionary<string, string>? labels) : IEquatable<SeriesKey>
    {
        private readonly long deviceId = deviceId;
        private readonly string name = name;
        private readonly IReadOnlyDictionary<string, string>? labels = labels is { Count: > 0 } ? labels : null;

        public bool Equals(SeriesKey other) =>
            deviceId == other.deviceId && string.Equals(name, other.name, StringComparison.Ordinal) && SameLabels(labels, other.labels);

        public override bool Equals(object? obj) => obj is SeriesKey other && Equals(other);

        public override int GetHashCode() => HashCode.Combine(deviceId, StringComparer.Ordinal.GetHashCode(name), LabelsHash(labels));

        /// <summary>Order-independent over the label pairs: a sum of each pair's hash.</summary>
        private static int LabelsHash(IReadOnlyDictionary<string, string>? labels)
        {
            var hash = 0;
            if (labels is Dictionary<string, string> dictionary)
            {
                // The form every deserialised message has; its enumerator is a struct, so nothing is allocated.
                foreach (var (key, value) in dictionary)
                {
                    hash = unchecked(hash + PairHash(key, value));
                }
            }
            else if (labels is not null)
            {
                foreach (var (key, value) in labels)
                {
                    hash = unchecked(hash + PairHash(key, value));
                }
            }

            return hash;
        }

        private static int PairHash(string key, string value) =>
            HashCode.Combine(StringComparer.Ordinal.GetHashCode(key), StringComparer.Ordinal.GetHashCode(value));

        private static bool SameLabels(IReadOnlyDictionary<string, string>? a, IReadOnlyDictionary<string, string>? b)
        {
            if (ReferenceEquals(a, b))
            {
                return true;
            }

            if (a is null || b is null || a.Count != b.Count)
            {
                return false;
            }

            if (a is Dictionary<string, string> dictionary)
            {
                foreach (var (key, value) in dictionary)
                {
                    if (!b.TryGetValue(key, out var other) || !string.Equals(value, other, StringComparison.Ordinal))
                    {
                        return false;
                    }
                }

                return true;
            }

            foreach (var (key, value) in a)
            {
                if (!b.TryGetValue(key, out var other) || !string.Equals(value, other, StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return true;
        }
    }
}
