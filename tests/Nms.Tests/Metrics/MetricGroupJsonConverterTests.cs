using System.Text;
using System.Text.Json;
using Nms.Core.Configuration;
using Nms.Core.Metrics;
using Nms.Core.Polling;

namespace Nms.Tests.Metrics;

public sealed class MetricGroupJsonConverterTests
{
    /// <summary>The queue's settings without the converter: what the reader must agree with.</summary>
    private static readonly JsonSerializerOptions Serializer = NmsJson.CreateQueueDefaults(withConverters: false);

    private static readonly GroupedPoll Poll = new(7, DateTimeOffset.Parse("2026-12-03T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture),
    [
        new MetricGroup(["if_in_octets_total", "if_oper_status", "wrapped"], [1.5, 1, 4294967295], new Dictionary<string, string> { ["interface"] = "eth0", ["if_index"] = "1" }, [null, null, "counter"], [null, null, 32]),
        new MetricGroup(["cpu_load_percent"], [12.25]),
    ]);

    [Fact]
    public void A_grouped_poll_reads_as_the_serializer_reads_it_and_writes_the_same_bytes()
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(Poll, PollingJson.Default.GroupedPoll);

        var read = JsonSerializer.Deserialize<GroupedPoll>(json, NmsJson.Queue)!;

        Assert.Equal(Describe(JsonSerializer.Deserialize<GroupedPoll>(json, Serializer)!), Describe(read));
        Assert.Equal(json, JsonSerializer.SerializeToUtf8Bytes(read, NmsJson.Queue));
    }

    [Fact]
    public void Names_and_labels_seen_before_are_the_same_strings()
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(Poll, PollingJson.Default.GroupedPoll);

        var first = JsonSerializer.Deserialize<GroupedPoll>(json, NmsJson.Queue)!.Groups[0];
        var second = JsonSerializer.Deserialize<GroupedPoll>(json, NmsJson.Queue)!.Groups[0];

        Assert.Same(first.Names[0], second.Names[0]);
        Assert.Same(first.Labels!["interface"], second.Labels!["interface"]);
        Assert.NotSame(first.Labels, second.Labels);
    }

    [Theory]
    [InlineData("""{"names":["a","b"],"values":["1.5",2]}""")]
    [InlineData("""{"Names":["a"],"VALUES":[1],"Labels":{"k":"v"}}""")]
    [InlineData("""{"n\u0061mes":["a"],"values":[1]}""")]
    [InlineData("""{"names":["a"],"names":["b"],"values":[1]}""")]
    [InlineData("""{"names":["a"],"values":[1],"labels":{"k":null}}""")]
    [InlineData("""{"names":["a"],"values":[1],"labels":{"k":"v","k":"w"}}""")]
    [InlineData("""{"names":["a",null],"values":[1,2]}""")]
    [InlineData("""{"names":["a"],"values":[1],"extra":{"x":[1,2]},"kinds":[null],"counterBits":[null]}""")]
    [InlineData("""{"names":null,"values":null}""")]
    [InlineData("""{"values":[1]}""")]
    [InlineData("""{"names":["caf\u00e9","\ud83d\ude00"],"values":[1e3,-0.0]}""")]
    public void Input_it_does_not_take_reads_as_the_serializer_reads_it(string group)
    {
        var json = Encoding.UTF8.GetBytes($$"""{"deviceId":1,"ts":"2026-12-03T10:00:00Z","groups":[{{group}}]}""");

        Assert.Equal(Describe(JsonSerializer.Deserialize<GroupedPoll>(json, Serializer)!), Describe(JsonSerializer.Deserialize<GroupedPoll>(json, NmsJson.Queue)!));
    }

    [Theory]
    [InlineData("""{"names":["a"],"values":[true]}""")]
    [InlineData("""{"names":["a"],"values":[1],"counterBits":[32.5]}""")]
    [InlineData("""{"names":"a","values":[1]}""")]
    [InlineData("""{"names":["a"],"values":[1],"labels":[]}""")]
    public void Input_the_serializer_refuses_is_refused_the_same_way(string group)
    {
        var json = Encoding.UTF8.GetBytes($$"""{"deviceId":1,"ts":"2026-12-03T10:00:00Z","groups":[{{group}}]}""");

        var expected = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<GroupedPoll>(json, Serializer));
        var actual = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<GroupedPoll>(json, NmsJson.Queue));
        // The group's path from the message, and the field's within the group in the message.
        Assert.StartsWith(actual.Path! + ".", expected.Path, StringComparison.Ordinal);
        Assert.Contains("$." + expected.Path![(actual.Path!.Length + 1)..], actual.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_whole_metrics_message_from_a_stream_reads_as_the_serializer_reads_it()
    {
        var polls = Enumerable.Range(0, 200).Select(d => Poll with { DeviceId = d }).ToList();
        var json = JsonSerializer.SerializeToUtf8Bytes(new MetricsBatchMessage(Guid.NewGuid(), null, GroupedPolls: polls), NmsJson.Queue);

        // The worker binds from a stream, read in pieces: a group may start at the end of one buffer.
        var read = JsonSerializer.Deserialize<MetricsBatchMessage>(new MemoryStream(json), NmsJson.Queue)!;

        Assert.Equal(
            JsonSerializer.Deserialize<MetricsBatchMessage>(json, Serializer)!.AllSamples().Select(s => (s.DeviceId, s.Name, s.Value, Labels(s.Labels), s.Kind, s.CounterBits)),
            read.AllSamples().Select(s => (s.DeviceId, s.Name, s.Value, Labels(s.Labels), s.Kind, s.CounterBits)));
    }

    private static string Describe(GroupedPoll poll) => JsonSerializer.Serialize(poll, Serializer);

    private static string Labels(IReadOnlyDictionary<string, string>? labels) => string.Join(',', (labels ?? new Dictionary<string, string>()).Select(l => $"{l.Key}={l.Value}"));
}
