using System.Globalization;
using System.Text;
using System.Text.Json;
using Nms.Core.Configuration;
using Nms.Core.Health;
using Nms.Core.Metrics;
using Nms.Core.Polling;

namespace Nms.Tests.Polling;

/// <summary>The metrics and failure messages the poller sends: split under the queue limit, every item once, in order.</summary>
public sealed class QueueMessageSplitterTests
{
    private const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    private static readonly DateTimeOffset At = new(2026, 12, 3, 6, 0, 0, TimeSpan.Zero);

    private static MetricPoll Poll(long device, int values, int labelLength) => new(device, At.AddSeconds(device),
        Enumerable.Range(0, values).Select(i => new MetricValue(
            i % 3 == 0 ? "if_in_octets_total" : "if_oper_status", device * 1000 + i + 0.25,
            new Dictionary<string, string> { ["interface"] = "eth" + i.ToString(CultureInfo.InvariantCulture), ["alias"] = new string('a', labelLength) },
            i % 3 == 0 ? MetricKinds.Counter : null, i % 3 == 0 ? 64 : null)).ToList());

    private static List<MetricPoll> Polls(int count, Func<int, int> labelLength) =>
        Enumerable.Range(1, count).Select(d => Poll(d, 1 + d % 7, labelLength(d))).ToList();

    private static string Key(MetricPoll poll) => JsonSerializer.Serialize(poll, NmsJson.Queue);

    [Fact]
    public void Messages_near_the_limit_stay_under_it_and_carry_every_poll_once_in_order()
    {
        // Item sizes vary by a few bytes, so many messages end within a poll's size of the limit.
        var polls = Polls(900, d => 40 + d * 37 % 200);
        var parts = QueueMessageSplitter.Split(polls, nameof(MetricsBatchMessage.Polls), traceParent: TraceParent, typeInfo: PollingJson.Default.MetricPoll);

        Assert.True(parts.Count > 5);
        var roundTripped = new List<MetricPoll>();
        foreach (var part in parts)
        {
            var bytes = part.Json.ToArray();
            Assert.True(bytes.Length <= QueueMessageSplitter.MaxJsonBytes, $"{bytes.Length} bytes");
            // What the queue carries: Base64 of the JSON, under 64 KiB.
            Assert.True(Convert.ToBase64String(bytes).Length <= 64 * 1024);
            var message = JsonSerializer.Deserialize<MetricsBatchMessage>(bytes, NmsJson.Queue)!;
            Assert.Equal(part.BatchId, message.BatchId);
            Assert.Equal(TraceParent, message.TraceParent);
            Assert.Equal(part.Items.Select(Key), message.Polls!.Select(Key));
            roundTripped.AddRange(message.Polls!);
        }

        Assert.Equal(polls.Select(Key), roundTripped.Select(Key));
        Assert.Equal(parts.Count, parts.Select(p => p.BatchId).Distinct().Count());
        // Full: each message but the last had no room for the next poll.
        for (var i = 0; i < parts.Count - 1; i++)
        {
            var next = Encoding.UTF8.GetByteCount(Key(parts[i + 1].Items[0])) + 1;
            Assert.True(parts[i].Json.ToMemory().Length + next > QueueMessageSplitter.MaxJsonBytes);
        }
    }

    [Fact]
    public void An_item_that_fits_to_the_byte_is_kept_and_one_byte_more_is_too_large()
    {
        var envelope = QueueMessageSplitter.Split([Poll(1, 1, 0)], nameof(MetricsBatchMessage.Polls)).Single().Json.ToMemory().Length
            - Encoding.UTF8.GetByteCount(Key(Poll(1, 1, 0)));
        var poll = Poll(1, 1, 500);
        var exact = envelope + Encoding.UTF8.GetByteCount(Key(poll));

        var kept = QueueMessageSplitter.Split([poll, poll], nameof(MetricsBatchMessage.Polls), maxJsonBytes: exact);
        Assert.Equal(2, kept.Count);
        Assert.All(kept, part => Assert.Equal(exact, part.Json.ToMemory().Length));

        var tooLarge = new List<int>();
        var none = QueueMessageSplitter.Split([Poll(2, 1, 10), poll, Poll(3, 1, 10)], nameof(MetricsBatchMessage.Polls), maxJsonBytes: exact - 1,
            tooLarge: (_, size) => tooLarge.Add(size));
        Assert.Equal([exact], tooLarge);
        // The polls around the dropped one share a message, without a stray comma where it was.
        var message = JsonSerializer.Deserialize<MetricsBatchMessage>(none.Single().Json.ToArray(), NmsJson.Queue)!;
        Assert.Equal([2L, 3L], message.Polls!.Select(p => p.DeviceId));
    }

    [Fact]
    public void The_source_generated_writer_writes_what_the_queue_options_write()
    {
        var polls = new[]
        {
            Poll(7, 4, 3),
            new MetricPoll(8, At, [new MetricValue("uptime \"s\" é\u2028", double.MaxValue), new MetricValue("x", -0.0, new Dictionary<string, string>(), "gauge")]),
        };
        foreach (var poll in polls)
        {
            Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(poll, NmsJson.Queue), JsonSerializer.SerializeToUtf8Bytes(poll, PollingJson.Default.MetricPoll));
        }

        var failure = new FailureEvent(Guid.NewGuid(), 9, FailureEvent.PollReason, "timed out <after> 5 s", At);
        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(failure, NmsJson.Queue), JsonSerializer.SerializeToUtf8Bytes(failure, PollingJson.Default.FailureEvent));
        var withoutError = failure with { Error = null };
        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(withoutError, NmsJson.Queue), JsonSerializer.SerializeToUtf8Bytes(withoutError, PollingJson.Default.FailureEvent));
    }

    [Fact]
    public void Failure_batches_read_back_through_the_health_consumers_reader()
    {
        var failures = Enumerable.Range(1, 2_000)
            .Select(d => new FailureEvent(Guid.NewGuid(), d, FailureEvent.PingReason, "no answer to fping reachability check", At)).ToList();
        var parts = QueueMessageSplitter.Split(failures, nameof(FailureBatchMessage.Events), typeInfo: PollingJson.Default.FailureEvent);

        Assert.True(parts.Count > 1);
        var read = parts.SelectMany(p => JsonSerializer.Deserialize<FailureBatchMessage>(p.Json.ToArray(), NmsJson.Queue)!.Events).ToList();
        Assert.Equal(failures, read);
    }
}
