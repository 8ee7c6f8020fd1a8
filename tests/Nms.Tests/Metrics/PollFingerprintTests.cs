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
}
