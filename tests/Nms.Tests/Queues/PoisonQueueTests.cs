using System.Diagnostics.Metrics;
using System.Net;
using Nms.Core.Diagnostics;
using Nms.Core.Metrics;
using Nms.Tests.Entities;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Queues;

/// <summary>
/// Poison visible and recoverable, with real Azurite and PostgreSQL: a metrics batch the database
/// refuses lands in <c>metrics-poison</c>, the API, the health endpoint and the gauge show it, and a
/// replay after the cause is fixed gets it written exactly once.
/// </summary>
public sealed class PoisonQueueTests : IAsyncLifetime
{
    private const string RefuseBatches = """
        CREATE FUNCTION refuse_batches() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'metrics store unavailable (test)'; END $$;
        CREATE TRIGGER refuse_batches BEFORE INSERT ON metric_batches FOR EACH ROW EXECUTE FUNCTION refuse_batches();
        """;

    private TestApp app = null!;

    public async Task InitializeAsync() => app = await TestApp.StartAsync(o => o.Settings["Nms:Queues:SampleSeconds"] = "1");

    public async Task DisposeAsync() => await app.DisposeAsync();

    [Fact]
    public async Task A_poisoned_batch_is_counted_then_replayed_once_after_the_cause_is_fixed()
    {
        using var gauge = new PoisonGauge(app.Queues.Metrics);
        await app.Database.ExecuteAsync(RefuseBatches);
        var batch = new MetricsBatchMessage(Guid.NewGuid(),
            [new MetricSample(4242, "cpu_usage", 12.5, null, DateTimeOffset.UtcNow.AddSeconds(-5)), new MetricSample(4242, "cpu_usage", 13.5, null, DateTimeOffset.UtcNow)]);

        await app.SendAsync(app.Queues.Metrics, batch);

        await TestApp.EventuallyAsync(async () => await PoisonCountAsync() == 1, "the batch in metrics-poison, counted by the API");
        var health = await app.Anonymous.GetJsonAsync("health");
        Assert.Equal(1, health.Json.GetProperty("poison_messages").GetInt64());
        await TestApp.EventuallyAsync(() => Task.FromResult(gauge.Last == 1), "nms.queue.poison_messages = 1 for the metrics queue");

        await app.Database.ExecuteAsync("DROP TRIGGER refuse_batches ON metric_batches");
        var replay = await app.Client.SendJsonAsync(HttpMethod.Post, $"queues/{app.Queues.Metrics}/poison/replay");
        replay.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(1, replay.Json.GetProperty("replayed").GetInt32());
        Assert.Equal(0, replay.Json.GetProperty("poison_messages_left").GetInt64());

        await TestApp.EventuallyAsync(async () => await SamplesAsync() == 2, "the replayed batch's two samples written");
        var again = await app.Client.SendJsonAsync(HttpMethod.Post, $"queues/{app.Queues.Metrics}/poison/replay");
        Assert.Equal(0, again.Json.GetProperty("replayed").GetInt32());
        Assert.Equal(0, await PoisonCountAsync());
        Assert.Equal(1L, await app.Database.ScalarAsync<long>("SELECT count(*) FROM metric_batches WHERE batch_id = $1", batch.BatchId));
        Assert.Equal(2L, await SamplesAsync());
        await TestApp.EventuallyAsync(() => Task.FromResult(gauge.Last == 0), "nms.queue.poison_messages back to 0");
    }

    [Fact]
    public async Task Replay_caps_each_call_and_a_duplicate_replayed_message_changes_nothing()
    {
        var batch = new MetricsBatchMessage(Guid.NewGuid(), [new MetricSample(4343, "uptime_seconds", 1, null, DateTimeOffset.UtcNow)]);
        var poison = app.Queue(app.Queues.Metrics + "-poison");
        for (var i = 0; i < 3; i++)
        {
            // The same batch three times, as at-least-once delivery may leave it.
            await poison.SendMessageAsync(BinaryData.FromBytes(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(batch, Core.Configuration.NmsJson.Queue)));
        }

        var first = await app.Client.SendJsonAsync(HttpMethod.Post, $"queues/{app.Queues.Metrics}/poison/replay?max=2");
        Assert.Equal(2, first.Json.GetProperty("replayed").GetInt32());
        Assert.Equal(1, first.Json.GetProperty("poison_messages_left").GetInt64());
        var second = await app.Client.SendJsonAsync(HttpMethod.Post, $"queues/{app.Queues.Metrics}/poison/replay?max=2");
        Assert.Equal(1, second.Json.GetProperty("replayed").GetInt32());

        await TestApp.EventuallyAsync(async () => (await app.Queue(app.Queues.Metrics).GetPropertiesAsync()).Value.ApproximateMessagesCount == 0, "the replayed messages consumed");
        Assert.Equal(1L, await app.Database.ScalarAsync<long>("SELECT count(*) FROM metric_samples WHERE device_id = 4343"));
        Assert.Equal(0, await PoisonCountAsync());
    }

    [Theory]
    [InlineData("queues/nothing/poison/replay", HttpStatusCode.NotFound, null)]
    [InlineData("queues/{metrics}/poison/replay?max=0", HttpStatusCode.BadRequest, "max")]
    [InlineData("queues/{metrics}/poison/replay?max=1001", HttpStatusCode.BadRequest, "max")]
    [InlineData("queues/{metrics}/poison/replay?max=x", HttpStatusCode.BadRequest, "max")]
    public async Task Bad_replays_are_problems(string path, HttpStatusCode status, string? field)
    {
        var response = await app.Client.SendJsonAsync(HttpMethod.Post, path.Replace("{metrics}", app.Queues.Metrics, StringComparison.Ordinal));

        response.AssertProblem(status, field);
    }

    [Fact]
    public async Task Queues_and_replay_are_for_admins_only()
    {
        var operatorKey = (await app.Client.CreateAsync("api_keys", new { name = "op", role = "operator" })).GetProperty("key").GetString();
        using var client = app.CreateClient(operatorKey);

        (await client.GetJsonAsync("queues")).AssertProblem(HttpStatusCode.Forbidden);
        (await client.SendJsonAsync(HttpMethod.Post, $"queues/{app.Queues.Metrics}/poison/replay")).AssertProblem(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Every_queue_is_listed_with_its_poison_queue()
    {
        var response = await app.Client.GetJsonAsync("queues");

        response.AssertStatus(HttpStatusCode.OK);
        var names = response.Json.GetProperty("items").EnumerateArray().Select(q => (q.GetProperty("queue").GetString(), q.GetProperty("poison_queue").GetString())).ToList();
        Assert.Equal(app.Queues.All.Select(q => ((string?)q, (string?)(q + "-poison"))), names);
    }

    private async Task<long> PoisonCountAsync()
    {
        var response = await app.Client.GetJsonAsync("queues");
        response.AssertStatus(HttpStatusCode.OK);
        return response.Json.GetProperty("items").EnumerateArray().Single(q => q.GetProperty("queue").GetString() == app.Queues.Metrics).GetProperty("poison_messages").GetInt64();
    }

    private Task<long> SamplesAsync() => app.Database.ScalarAsync<long>("SELECT count(*) FROM metric_samples WHERE device_id = 4242");

    /// <summary>The <c>nms.queue.poison_messages</c> gauge of one queue, as an exporter would read it.</summary>
    private sealed class PoisonGauge : IDisposable
    {
        private readonly MeterListener listener = new();
        private readonly string queue;
        private long last = -1;

        public PoisonGauge(string queue)
        {
            this.queue = queue;
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == NmsInstruments.MeterName && instrument.Name == "nms.queue.poison_messages")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<long>(OnMeasurement);
            listener.Start();
        }

        public long Last
        {
            get
            {
                listener.RecordObservableInstruments();
                return Interlocked.Read(ref last);
            }
        }

        public void Dispose() => listener.Dispose();

        private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "queue" && (tag.Value as string) == queue)
                {
                    Interlocked.Exchange(ref last, value);
                }
            }
        }
    }
}
