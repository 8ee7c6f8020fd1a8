namespace Nms.Core.Metrics;

/// <summary>
/// Poll results on the <c>metrics</c> queue; BatchId makes the writer idempotent. The poller sends
/// <see cref="Polls"/>: one entry per device and poll time, so the device id and the timestamp are written
/// (and parsed) once per poll rather than once per sample, and a 64 KiB message holds about twice the samples.
/// <see cref="Samples"/>, one entry per sample, is the older form: still read, so messages in flight across an
/// upgrade are written, and handy for tests. <see cref="TraceParent"/>: the W3C trace context of the poll that
/// took them (optional: older messages have none).
/// </summary>
public sealed record MetricsBatchMessage(Guid BatchId, IReadOnlyList<MetricSample>? Samples, IReadOnlyList<MetricPoll>? Polls = null, string? TraceParent = null)
{
    /// <summary>
    /// The message as polls, the form the writer stores: <see cref="Polls"/> as they are, followed by <see cref="Samples"/>
    /// grouped by (device, time) in the order each first appears. Null entries are skipped.
    /// </summary>
    public List<MetricPoll> AllPolls()
    {
        var all = new List<MetricPoll>((Polls?.Count ?? 0) + 1);
        foreach (var poll in Polls ?? [])
        {
            if (poll?.Values is not null)
            {
                all.Add(poll.Values.Contains(null!) ? poll with { Values = poll.Values.Where(v => v is not null).ToList() } : poll);
            }
        }

        if (Samples is { Count: > 0 })
        {
            var byPoll = new Dictionary<(long Device, DateTimeOffset Ts), List<MetricValue>>();
            foreach (var sample in Samples)
            {
                if (sample is null)
                {
                    continue;
                }

                if (!byPoll.TryGetValue((sample.DeviceId, sample.Ts), out var values))
                {
                    byPoll[(sample.DeviceId, sample.Ts)] = values = [];
                }

                values.Add(new MetricValue(sample.Name, sample.Value, sample.Labels, sample.Kind, sample.CounterBits));
            }

            all.AddRange(byPoll.Select(p => new MetricPoll(p.Key.Device, p.Key.Ts, p.Value)));
        }

        return all;
    }

    /// <summary>Every sample of the message, both forms, in order.</summary>
    public List<MetricSample> AllSamples()
    {
        var all = new List<MetricSample>(Samples?.Count ?? 0);
        all.AddRange(Samples ?? []);
        foreach (var poll in Polls ?? [])
        {
            foreach (var value in poll?.Values ?? [])
            {
                if (value is not null)
                {
                    all.Add(new MetricSample(poll!.DeviceId, value.Name, value.Value, value.Labels, poll.Ts, value.Kind, value.CounterBits));
                }
            }
        }

        return all;
    }
}

/// <summary>One device's samples of one poll time.</summary>
public sealed record MetricPoll(long DeviceId, DateTimeOffset Ts, IReadOnlyList<MetricValue> Values);

/// <summary>A sample within a <see cref="MetricPoll"/>: <see cref="MetricSample"/> without the device and time.</summary>
public sealed record MetricValue(
    string Name,
    double Value,
    IReadOnlyDictionary<string, string>? Labels = null,
    string? Kind = null,
    int? CounterBits = null);

/// <summary>
/// One sample. <see cref="Kind"/> is <c>gauge</c> or <c>counter</c>; when absent a name ending in
/// <c>_total</c> is a counter. <see cref="CounterBits"/> (32 or 64) only for counters; absent = 64.
/// </summary>
public sealed record MetricSample(
    long DeviceId,
    string Name,
    double Value,
    IReadOnlyDictionary<string, string>? Labels,
    DateTimeOffset Ts,
    string? Kind = null,
    int? CounterBits = null);

public static class MetricKinds
{
    public const string Gauge = "gauge";
    public const string Counter = "counter";

    /// <summary>The kind and counter width a series is stored with (CONTRACTS.md's defaults).</summary>
    public static (string Kind, short? CounterBits) Resolve(string name, string? kind, int? counterBits)
    {
        var resolved = kind is Gauge or Counter ? kind : name.EndsWith("_total", StringComparison.Ordinal) ? Counter : Gauge;
        return resolved == Counter ? (Counter, counterBits == 32 ? (short)32 : (short)64) : (Gauge, null);
    }
}
