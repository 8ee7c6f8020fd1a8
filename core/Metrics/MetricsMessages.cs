namespace Nms.Core.Metrics;

/// <summary>
/// Poll results on the <c>metrics</c> queue; BatchId makes the writer idempotent. The poller sends
/// <see cref="Polls"/>: one entry per device and poll time, so the device id and the timestamp are written
/// (and parsed) once per poll rather than once per sample, and a 64 KiB message holds about twice the samples.
/// <see cref="Samples"/>, one entry per sample, is the older form: still read, so messages in flight across an
/// upgrade are written, and handy for tests. <see cref="GroupedPolls"/> is what the poller sends today: the same polls
/// with each run of samples sharing a label set written as one <see cref="MetricGroup"/> (labels once, names and values
/// as arrays), less than half the bytes. <see cref="TraceParent"/>: the W3C trace context of the poll that
/// took them (optional: older messages have none).
/// </summary>
public sealed record MetricsBatchMessage(
    Guid BatchId,
    IReadOnlyList<MetricSample>? Samples,
    IReadOnlyList<MetricPoll>? Polls = null,
    string? TraceParent = null,
    IReadOnlyList<GroupedPoll>? GroupedPolls = null)
{
    /// <summary>
    /// The message as polls, the form the writer stores: <see cref="GroupedPolls"/> expanded, then <see cref="Polls"/> as
    /// they are, then <see cref="Samples"/> grouped by (device, time) in the order each first appears. Null entries are
    /// skipped; a group whose arrays disagree in length fails the message (<see cref="InvalidDataException"/>).
    /// </summary>
    public List<MetricPoll> AllPolls()
    {
        var all = new List<MetricPoll>((GroupedPolls?.Count ?? 0) + (Polls?.Count ?? 0) + 1);
        for (var p = 0; p < (GroupedPolls?.Count ?? 0); p++)
        {
            if (GroupedPolls![p] is { } grouped)
            {
                all.Add(grouped.Expand(p));
            }
        }

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

    /// <summary>Every sample of the message, every form, in order.</summary>
    public List<MetricSample> AllSamples()
    {
        var all = new List<MetricSample>(Samples?.Count ?? 0);
        all.AddRange(Samples ?? []);
        foreach (var poll in (Polls ?? []).Concat(GroupedPolls?.Select((g, p) => g?.Expand(p)) ?? []))
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

/// <summary>
/// One device's samples of one poll time as the poller sends them: runs of samples with the same labels (the columns of
/// one interface row) as one <see cref="MetricGroup"/> each, in the poll's order.
/// </summary>
public sealed record GroupedPoll(long DeviceId, DateTimeOffset Ts, IReadOnlyList<MetricGroup> Groups)
{
    /// <summary>
    /// The poll with its samples in the order they were grouped; the samples of a group share its label dictionary.
    /// <paramref name="index"/> names this poll in an error.
    /// </summary>
    public MetricPoll Expand(int index)
    {
        var groups = Groups ?? [];
        var count = 0;
        for (var g = 0; g < groups.Count; g++)
        {
            count += groups[g]?.Names?.Count ?? 0;
        }

        var values = new List<MetricValue>(count);
        for (var g = 0; g < groups.Count; g++)
        {
            groups[g]?.AddTo(values, index, g);
        }

        return new MetricPoll(DeviceId, Ts, values);
    }

    /// <summary>
    /// The grouped form of <paramref name="poll"/>: consecutive samples with equal labels share a group, and a sample's kind
    /// and counter width are written only where leaving them out would resolve otherwise (<see cref="MetricKinds.Resolve"/>).
    /// </summary>
    public static GroupedPoll From(MetricPoll poll)
    {
        var groups = new List<MetricGroup>();
        var start = 0;
        for (var i = 1; i <= poll.Values.Count; i++)
        {
            if (i == poll.Values.Count || !SameLabels(poll.Values[i].Labels, poll.Values[start].Labels))
            {
                groups.Add(MetricGroup.From(poll.Values, start, i - start));
                start = i;
            }
        }

        return new GroupedPoll(poll.DeviceId, poll.Ts, groups);
    }

    private static bool SameLabels(IReadOnlyDictionary<string, string>? a, IReadOnlyDictionary<string, string>? b)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }

        if ((a?.Count ?? 0) != (b?.Count ?? 0))
        {
            return false;
        }

        foreach (var (key, value) in a ?? EmptyLabels)
        {
            if (!b!.TryGetValue(key, out var other) || !string.Equals(value, other, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    private static readonly IReadOnlyDictionary<string, string> EmptyLabels = new Dictionary<string, string>();
}

/// <summary>
/// Samples of one poll that share <see cref="Labels"/>: <see cref="Names"/> and <see cref="Values"/> are parallel; so are
/// <see cref="Kinds"/> and <see cref="CounterBits"/> when present (null where the name's default applies, absent when
/// every entry would be null).
/// </summary>
public sealed record MetricGroup(
    IReadOnlyList<string> Names,
    IReadOnlyList<double> Values,
    IReadOnlyDictionary<string, string>? Labels = null,
    IReadOnlyList<string?>? Kinds = null,
    IReadOnlyList<int?>? CounterBits = null)
{
    /// <summary>This group's samples, appended; <paramref name="poll"/> and <paramref name="group"/> name it in an error.</summary>
    internal void AddTo(List<MetricValue> values, int poll, int group)
    {
        var count = Names?.Count ?? 0;
        Require(Values?.Count ?? 0, count, poll, group, "values");
        Require(Kinds?.Count ?? count, count, poll, group, "kinds");
        Require(CounterBits?.Count ?? count, count, poll, group, "counterBits");
        var labels = Labels is { Count: > 0 } ? Labels : null;
        for (var i = 0; i < count; i++)
        {
            values.Add(new MetricValue(Names![i], Values![i], labels, Kinds?[i], CounterBits?[i]));
        }
    }

    internal static MetricGroup From(IReadOnlyList<MetricValue> values, int start, int count)
    {
        var names = new string[count];
        var numbers = new double[count];
        string?[]? kinds = null;
        int?[]? bits = null;
        for (var i = 0; i < count; i++)
        {
            var value = values[start + i];
            names[i] = value.Name;
            numbers[i] = value.Value;
            var (kind, counterBits) = Shortest(value.Name, value.Kind, value.CounterBits);
            if (kind is not null)
            {
                (kinds ??= new string?[count])[i] = kind;
            }

            if (counterBits is not null)
            {
                (bits ??= new int?[count])[i] = counterBits;
            }
        }

        return new MetricGroup(names, numbers, values[start].Labels is { Count: > 0 } labels ? labels : null, kinds, bits);
    }

    /// <summary>
    /// The kind and counter width to send: left out where their absence means the same (a counter if the name ends in
    /// <c>_total</c>, 64 bits). An interface counter's <c>"kind":"counter","counterBits":64</c> was a third of its bytes.
    /// </summary>
    internal static (string? Kind, int? CounterBits) Shortest(string name, string? kind, int? counterBits)
    {
        var (resolved, bits) = MetricKinds.Resolve(name, kind, counterBits);
        var implied = MetricKinds.Resolve(name, null, null).Kind;
        return (resolved == implied ? null : resolved, bits == 32 ? 32 : null);
    }

    // The field's path is formatted only on error: a string per group was half of expanding a message (0.12 -> 0.06 µs per sample).
    private static void Require(int actual, int expected, int poll, int group, string field)
    {
        if (actual != expected)
        {
            throw new InvalidDataException($"groupedPolls[{poll}].groups[{group}].{field}: {actual} entries, but names has {expected}");
        }
    }
}

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
