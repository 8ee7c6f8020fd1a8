using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Nms.Core.Metrics;
using Nms.Core.Observability;
using Nms.Tests.Infrastructure;
using OpenTelemetry.Trace;

namespace Nms.Tests.Observability;

/// <summary>
/// The W3C trace context travels inside the queue messages (real Azurite hops, the app in-process, spans collected by
/// OpenTelemetry's in-memory exporter): one poll is one trace, scheduler → poller → writer and failure consumer.
/// </summary>
public sealed class QueueTraceTests : IDisposable
{
    private readonly FakePlugins plugins = new();
    private readonly LockedSpans spans = new();

    public void Dispose() => plugins.Dispose();

    private Task<TestApp> StartAsync() => TestApp.StartAsync(o =>
    {
        o.EnabledTimers.Add("PollScheduler");
        o.Settings["NmsSchedulerSchedule"] = "*/1 * * * * *";
        o.Settings["Nms:Plugins:Directory"] = plugins.Directory;
        o.Settings["Nms:Reachability:Mode"] = "tcp";
        o.Settings["Nms:Reachability:TimeoutMilliseconds"] = "300";
        o.Settings["Nms:Reachability:Retries"] = "0";
        o.ConfigureServices = services => services.AddOpenTelemetry().WithTracing(tracing => tracing.AddSource(NmsActivities.SourceName).AddInMemoryExporter(spans));
    });

    /// <summary>The exporter's spans as they are now (spans from other tests' apps in this process are in it too).</summary>
    private Activity[] Spans() => spans.Snapshot();

    private static string? BatchId(Activity span) => span.GetTagItem("nms.batch_id") as string;

    [Fact]
    public async Task One_poll_is_one_trace_from_the_scheduler_through_the_queues_to_the_writer_and_the_failure_consumer()
    {
        plugins.AddEcho("echo");
        await using var app = await StartAsync();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var closedPort = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        // Both due at the same moment a little ahead, so one tick pops them into one batch.
        var due = DateTimeOffset.UtcNow.AddSeconds(2);
        await app.Database.DataSource.AddDeviceAsync("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port, "echo", dueAt: due, intervalSeconds: 60);
        await app.Database.DataSource.AddDeviceAsync("127.0.0.1", closedPort, "echo", dueAt: due, intervalSeconds: 60);

        (Activity Scheduler, Activity Poller, Activity Writer, Activity Failures)? trace = null;
        await TestApp.EventuallyAsync(async () =>
        {
            var ours = (await app.Database.ScalarAsync<Guid[]>("SELECT coalesce(array_agg(batch_id), '{}') FROM metric_batches")).Select(g => g.ToString()).ToHashSet();
            var all = Spans();
            var byId = all.ToDictionary(s => s.SpanId);
            foreach (var writer in all.Where(s => s.DisplayName == "MetricsWriter" && BatchId(s) is { } id && ours.Contains(id)))
            {
                if (byId.GetValueOrDefault(writer.ParentSpanId) is { DisplayName: "Poller" } poller
                    && byId.GetValueOrDefault(poller.ParentSpanId) is { DisplayName: "PollScheduler.Enqueue" } scheduler
                    && all.FirstOrDefault(s => s.DisplayName == "HealthFailureConsumer" && s.ParentSpanId == poller.SpanId) is { } failures)
                {
                    trace = (scheduler, poller, writer, failures);
                    return true;
                }
            }

            return false;
        }, "a MetricsWriter span of this app's batch, child of a Poller span, child of the scheduler's, with the failure consumer beside it", TimeSpan.FromSeconds(45));

        var (s, p, w, f) = trace!.Value;
        Assert.Equal(default, s.ParentSpanId);
        Assert.Equal(ActivityKind.Producer, s.Kind);
        Assert.All(new[] { p, w, f }, span => Assert.Equal(s.TraceId, span.TraceId));
        Assert.All(new[] { p, w, f }, span => Assert.Equal(ActivityKind.Consumer, span.Kind));
        Assert.Equal(BatchId(s), BatchId(p));
        Assert.True(Guid.TryParse(BatchId(f), out _), "the failure consumer's span has its batch id");
        Assert.NotEqual(BatchId(p), BatchId(w));
    }

    [Fact]
    public async Task A_message_without_trace_context_from_before_it_is_still_written_in_a_trace_of_its_own()
    {
        await using var app = await StartAsync();
        var device = await app.Database.DataSource.AddDeviceAsync("127.0.0.1", 1, "echo", dueAt: DateTimeOffset.UtcNow.AddHours(1));
        var batch = new MetricsBatchMessage(Guid.NewGuid(), [new MetricSample(device, "uptime_seconds", 1, null, DateTimeOffset.UtcNow)]);
        // As an older app sent it: no traceParent field at all.
        await app.Queue(app.Queues.Metrics).SendMessageAsync(BinaryData.FromString($$"""{"batchId":"{{batch.BatchId}}","samples":[{"deviceId":{{device}},"name":"uptime_seconds","value":1,"ts":"{{DateTimeOffset.UtcNow:O}}"}]}"""));

        await TestApp.EventuallyAsync(async () => await app.Database.ScalarAsync<long>("SELECT count(*) FROM metric_batches WHERE batch_id = $1", batch.BatchId) == 1, "the old-format batch written");
        await TestApp.EventuallyAsync(() => Task.FromResult(Spans().Any(s => s.DisplayName == "MetricsWriter" && BatchId(s) == batch.BatchId.ToString())), "the writer's span for it");
        var span = Spans().First(s => s.DisplayName == "MetricsWriter" && BatchId(s) == batch.BatchId.ToString());
        Assert.Equal(default, span.ParentSpanId);
    }
}

/// <summary>The exporter adds from the app's threads while the test reads.</summary>
internal sealed class LockedSpans : System.Collections.ObjectModel.Collection<Activity>
{
    public Activity[] Snapshot()
    {
        lock (Items)
        {
            return [.. Items];
        }
    }

    protected override void InsertItem(int index, Activity item)
    {
        lock (Items)
        {
            base.InsertItem(index, item);
        }
    }
}
