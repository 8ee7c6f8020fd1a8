using Nms.Core.Metrics;

namespace Nms.Tests.Metrics;

public sealed class PollFingerprintTests
{
    private static MetricValue Value(string name, double value, params (string Key, string Label)[] labels) =>
        new(name, value, labels.Length == 0 ? null : labels.ToDictionary(l => l.Key, l => l.Label));

    [Fact]
    public void Polls_with_the_same_names_and_labels_in_the_same_order_share_a_fingerprint_whatever_their_values()
    {
        var first = PollFingerprint.Of([Value("cpu", 1), Value("in_total", 2, ("if_index", "1"))]);
        var second = PollFingerprint.Of([Value("cpu", 7), Value("in_total", 9, ("if_index", "1"))]);

        Assert.Equal(first, second);
    }

    [Fact]
    public void Another_order_name_label_or_count_gives_another_fingerprint()
    {
        var fingerprints = new[]
        {
            PollFingerprint.Of([Value("cpu", 1), Value("mem", 1)]),
            PollFingerprint.Of([Value("mem", 1), Value("cpu", 1)]),
            PollFingerprint.Of([Value("cpu", 1)]),
            PollFingerprint.Of([Value("cpu", 1), Value("mem", 1, ("if_index", "1"))]),
            PollFingerprint.Of([Value("cpu", 1), Value("mem", 1, ("if_index", "2"))]),
            // The same characters split differently between key and label, or between names.
            PollFingerprint.Of([Value("cpu", 1), Value("mem", 1, ("if_inde", "x2"))]),
            PollFingerprint.Of([Value("cpum", 1), Value("em", 1)]),
            PollFingerprint.Of([Value("cpu", 1), Value("mem", 1, ("", ""))]),
        };

        Assert.Equal(fingerprints.Length, fingerprints.Distinct().Count());
    }

    [Fact]
    public void A_poll_larger_than_the_first_buffer_is_hashed_whole()
    {
        var values = Enumerable.Range(0, 500).Select(i => Value("in_total", i, ("if_index", i.ToString(System.Globalization.CultureInfo.InvariantCulture)))).ToList();
        var changedAtTheEnd = values.Take(499).Append(Value("in_total", 0, ("if_index", "x"))).ToList();

        Assert.NotEqual(PollFingerprint.Of(values), PollFingerprint.Of(changedAtTheEnd));
        Assert.Equal(PollFingerprint.Of(values), PollFingerprint.Of([.. values]));
    }

    [Fact]
    public void Labels_shared_with_the_value_before_still_tell_series_apart()
    {
        var eth0 = new Dictionary<string, string> { ["interface"] = "eth0" };
        var shared = PollFingerprint.Of([new MetricValue("in_total", 1, eth0), new MetricValue("out_total", 1, eth0)]);
        var fingerprints = new[]
        {
            shared,
            PollFingerprint.Of([new MetricValue("in_total", 1, eth0), new MetricValue("out_total", 1, new Dictionary<string, string> { ["interface"] = "eth1" })]),
            PollFingerprint.Of([new MetricValue("in_total", 1, eth0), new MetricValue("out_total", 1)]),
            PollFingerprint.Of([new MetricValue("in_total", 1, eth0), new MetricValue("in_total", 1, eth0)]),
            PollFingerprint.Of([new MetricValue("in_total", 1), new MetricValue("out_total", 1, eth0)]),
        };

        Assert.Equal(fingerprints.Length, fingerprints.Distinct().Count());
    }

    [Fact]
    public void A_grouped_poll_read_from_two_deliveries_has_one_fingerprint()
    {
        var poll = new GroupedPoll(7, DateTimeOffset.UnixEpoch,
        [
            new MetricGroup(["in_total", "out_total"], [1, 2], new Dictionary<string, string> { ["interface"] = "eth0" }),
            new MetricGroup(["in_total", "out_total"], [3, 4], new Dictionary<string, string> { ["interface"] = "eth1" }),
        ]);
        var json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(poll, Nms.Core.Configuration.NmsJson.Queue);
        GroupedPoll Delivered() => System.Text.Json.JsonSerializer.Deserialize<GroupedPoll>(json, Nms.Core.Configuration.NmsJson.Queue)!;

        var first = Delivered().Expand(0);
        var second = Delivered().Expand(0);

        Assert.Same(first.Values[0].Labels, first.Values[1].Labels);
        Assert.NotSame(first.Values[0].Labels, second.Values[0].Labels);
        Assert.Equal(PollFingerprint.Of(first.Values), PollFingerprint.Of(second.Values));
        Assert.NotEqual(PollFingerprint.Of(first.Values), PollFingerprint.Of(second.Values.Take(3).ToList()));
    }
}
