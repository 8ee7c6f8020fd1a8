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
/// </summary>
public sealed class MetricSeriesCatalog([FromKeyedServices(NmsDataSources.MetricsKey)] NpgsqlDataSource dataSource)
{
    private readonly ConcurrentDictionary<SeriesKey, long> ids = new();

    /// <summary>One id per sample, in the samples' order.</summary>
    public async Task<long[]> IdsAsync(IReadOnlyList<MetricSample> samples, CancellationToken cancellationToken)
    {
        var result = new long[samples.Count];
        var missing = new Dictionary<SeriesKey, (MetricSample Sample, List<int> Positions)>();
        for (var i = 0; i < samples.Count; i++)
        {
            var key = SeriesKey.Of(samples[i]);
            if (ids.TryGetValue(key, out var id))
            {
                result[i] = id;
            }
            else if (missing.TryGetValue(key, out var entry))
            {
                entry.Positions.Add(i);
            }
            else
            {
                missing[key] = (samples[i], [i]);
            }
        }

        if (missing.Count > 0)
        {
            var keys = missing.Keys.ToArray();
            var found = await CreateAsync(keys, keys.Select(k => missing[k].Sample).ToArray(), cancellationToken);
            for (var k = 0; k < keys.Length; k++)
            {
                ids[keys[k]] = found[k];
                foreach (var position in missing[keys[k]].Positions)
                {
                    result[position] = found[k];
                }
            }
        }

        return result;
    }

    private async Task<long[]> CreateAsync(SeriesKey[] keys, MetricSample[] firsts, CancellationToken cancellationToken)
    {
        var devices = keys.Select(k => k.DeviceId).ToArray();
        var names = keys.Select(k => k.Name).ToArray();
        var labels = keys.Select(k => k.LabelsJson).ToArray();
        var kinds = firsts.Select(s => MetricKinds.Resolve(s.Name, s.Kind, s.CounterBits)).ToArray();
        await using (var insert = dataSource.CreateCommand(MetricsSql.InsertSeries))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = devices });
            insert.Parameters.Add(new NpgsqlParameter { Value = names });
            insert.Parameters.Add(new NpgsqlParameter { Value = labels });
            insert.Parameters.Add(new NpgsqlParameter { Value = kinds.Select(k => k.Kind).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = kinds.Select(k => k.CounterBits).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Smallint });
            insert.Parameters.Add(new NpgsqlParameter { Value = firsts.Select(s => s.Ts.UtcDateTime).ToArray() });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        // A new statement (a new snapshot) sees rows a concurrent writer inserted meanwhile.
        await using var select = dataSource.CreateCommand(MetricsSql.SeriesIds);
        select.Parameters.Add(new NpgsqlParameter { Value = devices });
        select.Parameters.Add(new NpgsqlParameter { Value = names });
        select.Parameters.Add(new NpgsqlParameter { Value = labels });
        var found = new long[keys.Length];
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            found[reader.GetInt64(0) - 1] = reader.GetInt64(1);
        }

        return found;
    }

    /// <summary>A series' identity; labels as JSON with keys in ordinal order, so equal label sets are equal keys.</summary>
    private readonly record struct SeriesKey(long DeviceId, string Name, string LabelsJson)
    {
        public static SeriesKey Of(MetricSample sample) => new(sample.DeviceId, sample.Name, LabelsToJson(sample.Labels));
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
}
