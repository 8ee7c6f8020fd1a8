using System.Globalization;
using System.Text.Json;
using Nms.Core.Configuration;
using Nms.Core.Metrics;
using Nms.Core.Polling;

namespace Nms.Tests.Metrics;

/// <summary>The metrics message's grouped form: what the poller sends, read back by the writer as the polls it was made from.</summary>
public sealed class GroupedPollTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 3, 9, 0, 0, TimeSpan.Zero);

    private static readonly string[] InterfaceColumns =
        ["if_oper_status", "if_in_octets_total", "if_out_octets_total", "if_in_errors_total", "if_out_errors_total", "if_in_discards_total", "if_out_discards_total"];

    /// <summary>Shaped like the snmp plugin's answer: seven columns per interface row, counters 32 or 64 bits, then the CPU.</summary>
    private static MetricPoll SnmpPoll(long device, int interfaces = 4)
    {
        var values = new List<MetricValue>();
        for (var i = 1; i <= interfaces; i++)
        {
            var row = new Dictionary<string, string> { ["interface"] = $"GigabitEthernet0/{i}", ["if_index"] = i.ToString(CultureInfo.InvariantCulture) };
            foreach (var name in InterfaceColumns)
            {
                var counter = name.EndsWith("_total", StringComparison.Ordinal);
                values.Add(new MetricValue(name, 1_234_567_890_123 + i, row, counter ? MetricKinds.Counter : MetricKinds.Gauge, counter ? (name.Contains("errors", StringComparison.Ordinal) ? 32 : 64) : null));
            }
        }

        values.Add(new MetricValue("cpu_load_percent", 17.5, new Dictionary<string, string> { ["cpu"] = "196608" }));
        values.Add(new MetricValue("uptime_seconds", 86_400));
        return new MetricPoll(device, At.AddSeconds(device), values);
    }

    private static MetricPoll RoundTrip(MetricPoll poll)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(GroupedPoll.From(poll), PollingJson.Default.GroupedPoll);
        var message = JsonSerializer.Deserialize<MetricsBatchMessage>(
            $$"""{"batchId":"{{Guid.NewGuid()}}","groupedPolls":[{{System.Text.Encoding.UTF8.GetString(json)}}]}""", NmsJson.Queue)!;
        return Assert.Single(message.AllPolls());
    }

    private static (string Name, double Value, string Labels, string Kind, short? Bits) Stored(MetricValue value)
    {
        var (kind, bits) = MetricKinds.Resolve(value.Name, value.Kind, value.CounterBits);
        return (value.Name, value.Value, JsonSerializer.Serialize(value.Labels ?? new Dictionary<string, string>()), kind, bits);
    }

    [Fact]
    public void A_grouped_poll_reads_back_as_the_same_samples_in_the_same_order_with_the_same_stored_kinds()
    {
        var poll = SnmpPoll(42);

        var read = RoundTrip(poll);

        Assert.Equal((poll.DeviceId, poll.Ts), (read.DeviceId, read.Ts));
        Assert.Equal(poll.Values.Select(Stored), read.Values.Select(Stored));
    }

    [Fact]
    public void Consecutive_samples_with_equal_labels_share_one_group_and_its_labels()
    {
        var grouped = GroupedPoll.From(SnmpPoll(1, interfaces: 3));

        // Three interface rows, the CPU, and the unlabelled uptime.
        Assert.Equal([7, 7, 7, 1, 1], grouped.Groups.Select(g => g.Names.Count));
        Assert.Null(grouped.Groups[^1].Labels);
        var read = grouped.Expand(0);
        Assert.Same(read.Values[0].Labels, read.Values[6].Labels);
        Assert.NotSame(read.Values[6].Labels, read.Values[7].Labels);
    }

    [Fact]
    public void Equal_labels_that_are_not_consecutive_keep_their_place()
    {
        var eth0 = new Dictionary<string, string> { ["interface"] = "eth0" };
        var eth1 = new Dictionary<string, string> { ["interface"] = "eth1" };
        var poll = new MetricPoll(3, At, [new("a", 1, eth0), new("b", 2, eth1), new("c", 3, new Dictionary<string, string> { ["interface"] = "eth0" })]);

        var read = RoundTrip(poll);

        Assert.Equal(["a", "b", "c"], read.Values.Select(v => v.Name));
        Assert.Equal(["eth0", "eth1", "eth0"], read.Values.Select(v => v.Labels!["interface"]));
    }

    [Theory]
    [InlineData("if_in_octets_total", "counter", 64, null, null)]
    [InlineData("if_in_errors_total", "counter", 32, null, 32)]
    [InlineData("if_in_octets_total", null, null, null, null)]
    [InlineData("if_oper_status", "gauge", null, null, null)]
    [InlineData("if_oper_status", null, null, null, null)]
    [InlineData("pkts", "counter", 64, "counter", null)]
    [InlineData("pkts", "counter", 32, "counter", 32)]
    [InlineData("odd_total", "gauge", 64, "gauge", null)]
    [InlineData("odd", "sum", 32, null, null)]
    public void A_samples_kind_is_sent_only_where_its_absence_would_mean_otherwise(string name, string? kind, int? bits, string? sentKind, int? sentBits)
    {
        var sent = MetricGroup.Shortest(name, kind, bits);

        Assert.Equal((sentKind, sentBits), sent);
        Assert.Equal(MetricKinds.Resolve(name, kind, bits), MetricKinds.Resolve(name, sent.Kind, sent.CounterBits));
    }

    [Fact]
    public void An_snmp_shaped_poll_takes_less_than_half_the_bytes_of_one_entry_per_sample()
    {
        var poll = SnmpPoll(12345, interfaces: 24);

        var perSample = JsonSerializer.SerializeToUtf8Bytes(poll, PollingJson.Default.MetricPoll).Length;
        var grouped = JsonSerializer.SerializeToUtf8Bytes(GroupedPoll.From(poll), PollingJson.Default.GroupedPoll).Length;

        Assert.True(grouped * 2 < perSample, $"grouped {grouped} bytes, one entry per sample {perSample}");
    }

    [Fact]
    public void The_source_generated_writer_writes_what_the_queue_options_write()
    {
        var polls = new[]
        {
            GroupedPoll.From(SnmpPoll(7, interfaces: 2)),
            GroupedPoll.From(new MetricPoll(8, At, [new MetricValue("uptime \"s\" é\u2028", double.MaxValue), new MetricValue("x", -0.0, new Dictionary<string, string>(), "gauge")])),
            GroupedPoll.From(new MetricPoll(9, At, [])),
        };
        foreach (var poll in polls)
        {
            Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(poll, NmsJson.Queue), JsonSerializer.SerializeToUtf8Bytes(poll, PollingJson.Default.GroupedPoll));
        }
    }

    [Theory]
    [InlineData("""{"names":["a","b"],"values":[1]}""", "groupedPolls[0].groups[1].values: 1 entries, but names has 2")]
    [InlineData("""{"names":["a"],"values":[1],"kinds":["gauge","counter"]}""", "groupedPolls[0].groups[1].kinds: 2 entries, but names has 1")]
    [InlineData("""{"names":["a"],"values":[1],"counterBits":[]}""", "groupedPolls[0].groups[1].counterBits: 0 entries, but names has 1")]
    public void A_group_whose_arrays_disagree_fails_the_message_naming_the_field(string badGroup, string error)
    {
        var json = $$"""{"batchId":"{{Guid.NewGuid()}}","groupedPolls":[{"deviceId":1,"ts":"2026-12-03T09:00:00Z","groups":[{"names":["ok"],"values":[1]},{{badGroup}}]}]}""";
        var message = JsonSerializer.Deserialize<MetricsBatchMessage>(json, NmsJson.Queue)!;

        var thrown = Assert.Throws<InvalidDataException>(message.AllPolls);
        Assert.Equal(error, thrown.Message);
    }

    [Fact]
    public void Every_form_of_one_message_is_read_grouped_first_then_polls_then_samples()
    {
        var message = new MetricsBatchMessage(
            Guid.NewGuid(),
            [new MetricSample(3, "c", 3, null, At)],
            [new MetricPoll(2, At, [new MetricValue("b", 2)])],
            GroupedPolls: [GroupedPoll.From(new MetricPoll(1, At, [new MetricValue("a", 1)])), null!]);

        Assert.Equal([1L, 2L, 3L], message.AllPolls().Select(p => p.DeviceId));
        Assert.Equal(["a", "b", "c"], message.AllSamples().Select(s => s.Name).Order());
    }
}
