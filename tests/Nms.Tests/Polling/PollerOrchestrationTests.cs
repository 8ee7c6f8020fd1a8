using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using Nms.Core.Configuration;
using Nms.Core.Credentials;
using Nms.Core.Diagnostics;
using Nms.Core.Health;
using Nms.Core.Metrics;
using Nms.Core.Plugins;
using Nms.Core.Polling;
using Nms.Core.Queues;
using Nms.Core.Reachability;
using Nms.Plugins.Sdk;

namespace Nms.Tests.Polling;

/// <summary>
/// The poller's decisions, with the plugin processes, the queue and the clock as mocks and the devices in a
/// real database: who is handed to which plugin, what goes on which queue, and when nothing does.
/// <see cref="PollerTests"/> runs the same poller against real plugin processes and fping.
/// </summary>
public sealed class PollerOrchestrationTests : IAsyncLifetime, IDisposable
{
    private static readonly QueueNames Queues = new("discovery", "poll", "metrics", "failures");
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 30, TimeSpan.Zero);

    private readonly PollingDatabase db = new();
    private readonly Mock<IPluginRunner> plugins = new(MockBehavior.Strict);
    private readonly Mock<IQueueSender> queues = new(MockBehavior.Strict);
    private readonly Mock<IReachability> reachability = new(MockBehavior.Strict);
    private readonly Mock<TimeProvider> time = new();
    private readonly NmsInstruments instruments = new();
    private readonly List<(string Queue, string Json)> sent = [];

    public PollerOrchestrationTests()
    {
        time.Setup(t => t.GetUtcNow()).Returns(Now);
        reachability.SetupGet(r => r.Mode).Returns(ReachabilityChecker.IcmpMode);
        Unreachable();
        plugins.Setup(p => p.RunAsync(It.IsAny<string>(), It.IsAny<PluginRequest>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string _, PluginRequest request, CancellationToken _) => Answered(request));
        queues.Setup(q => q.SendJsonAsync(It.IsAny<string>(), It.IsAny<BinaryData>(), It.IsAny<CancellationToken>()))
            .Callback((string queue, BinaryData json, CancellationToken _) => { lock (sent) { sent.Add((queue, json.ToString())); } })
            .Returns(Task.CompletedTask);
    }

    public Task InitializeAsync() => db.InitializeAsync();

    public Task DisposeAsync() => db.DisposeAsync();

    public void Dispose() => instruments.Dispose();

    [Fact]
    public async Task One_plugin_run_per_plugin_group()
    {
        var snmp = await DevicesAsync("snmp", 3);
        var ssh = await DevicesAsync("ssh", 2);

        var outcome = await Poller().PollAsync(Batch([.. snmp, .. ssh]), CancellationToken.None);

        plugins.Verify(p => p.RunAsync("snmp", It.Is<PluginRequest>(r => r.Mode == PluginContract.PollMode && r.Targets.Count == 3), It.IsAny<CancellationToken>()), Times.Once);
        plugins.Verify(p => p.RunAsync("ssh", It.Is<PluginRequest>(r => r.Targets.Count == 2), It.IsAny<CancellationToken>()), Times.Once);
        plugins.Verify(p => p.RunAsync(It.IsAny<string>(), It.IsAny<PluginRequest>(), It.IsAny<CancellationToken>()), Times.Exactly(2));
        Assert.Equal(5, outcome.Polled);
        Assert.Equal(5, Samples().Count);
    }

    [Fact]
    public async Task A_failure_message_for_every_unreachable_device_and_no_plugin_run_for_it()
    {
        var devices = await DevicesAsync("snmp", 3);
        Unreachable(devices[0], devices[2]);

        var outcome = await Poller().PollAsync(Batch(devices), CancellationToken.None);

        plugins.Verify(p => p.RunAsync("snmp", It.Is<PluginRequest>(r => r.Targets.Select(t => t.Id).SequenceEqual(new[] { devices[1].ToString() })), It.IsAny<CancellationToken>()), Times.Once);
        var failures = Failures();
        Assert.Equal([devices[0], devices[2]], failures.Select(f => f.DeviceId).Order());
        Assert.All(failures, f => Assert.Equal((FailureEvent.PingReason, Now), (f.Reason, f.OccurredAt)));
        Assert.Equal((2, 1), (outcome.Unreachable, outcome.Polled));
    }

    [Fact]
    public async Task When_every_device_is_unreachable_no_plugin_runs_and_no_metrics_are_sent()
    {
        var devices = await DevicesAsync("snmp", 2);
        Unreachable(devices);

        await Poller().PollAsync(Batch(devices), CancellationToken.None);

        plugins.Verify(p => p.RunAsync(It.IsAny<string>(), It.IsAny<PluginRequest>(), It.IsAny<CancellationToken>()), Times.Never);
        Assert.DoesNotContain(sent, s => s.Queue == Queues.Metrics);
        Assert.Equal(2, Failures().Count);
    }

    [Fact]
    public async Task A_batch_s_failures_go_out_as_one_message()
    {
        var devices = await DevicesAsync("snmp", 4);
        plugins.Setup(p => p.RunAsync(It.IsAny<string>(), It.IsAny<PluginRequest>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new PluginRunResult(null, "plugin exited with code 137: killed", TimeSpan.Zero));

        var outcome = await Poller().PollAsync(Batch(devices), CancellationToken.None);

        var message = Assert.Single(sent, s => s.Queue == Queues.Failures);
        var batch = JsonSerializer.Deserialize<FailureBatchMessage>(message.Json, NmsJson.Queue)!;
        Assert.Equal(devices, batch.Events.Select(e => e.DeviceId).Order());
        Assert.All(batch.Events, e => Assert.Equal(FailureEvent.PollReason, e.Reason));
        Assert.Equal((1, 4), (outcome.FailureMessages, outcome.Failed));
    }

    [Fact]
    public async Task A_redelivered_batch_sends_failures_with_the_same_event_ids()
    {
        var devices = await DevicesAsync("snmp", 2);
        Unreachable(devices);
        var batch = Batch(devices);

        await Poller().PollAsync(batch, CancellationToken.None);
        var first = Failures().Select(f => f.EventId).ToHashSet();
        sent.Clear();
        await Poller().PollAsync(batch, CancellationToken.None);

        Assert.Equal(first, Failures().Select(f => f.EventId).ToHashSet());
    }

    [Fact]
    public async Task Nothing_is_sent_once_the_token_is_cancelled()
    {
        var devices = await DevicesAsync("snmp", 2);
        using var cancellation = new CancellationTokenSource();
        plugins.Setup(p => p.RunAsync(It.IsAny<string>(), It.IsAny<PluginRequest>(), It.IsAny<CancellationToken>()))
            .Callback(() => cancellation.Cancel())
            .ReturnsAsync((string _, PluginRequest request, CancellationToken _) => Answered(request));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Poller().PollAsync(Batch(devices), cancellation.Token));

        queues.Verify(q => q.SendJsonAsync(It.IsAny<string>(), It.IsAny<BinaryData>(), It.IsAny<CancellationToken>()), Times.Never);
        queues.Verify(q => q.SendAsync(It.IsAny<string>(), It.IsAny<object>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    private Poller Poller()
    {
        var crypto = new CryptoOptions { ActiveKeyId = "k1", Keys = { ["k1"] = Convert.ToBase64String(new byte[32]) } };
        var runner = new PluginTargetRunner(plugins.Object, new CredentialReader(db.Data.Api, new SecretSealer(crypto)), NullLogger<PluginTargetRunner>.Instance);
        return new Poller(db.Data, reachability.Object, runner, queues.Object, Queues, new PollingOptions(), new HealthOptions(), instruments, time.Object, NullLogger<Poller>.Instance);
    }

    private void Unreachable(params long[] ids) =>
        reachability.Setup(r => r.UnreachableAsync(It.IsAny<IReadOnlyList<ReachabilityTarget>>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(ids.ToHashSet());

    private async Task<long[]> DevicesAsync(string plugin, int count)
    {
        var ids = new long[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = await db.InsertDeviceAsync($"127.41.{ids.Length}.{i + 1}", plugin == "snmp" ? 161 : 22, plugin, Now.AddSeconds(-30));
        }

        return ids;
    }

    private static PollBatchMessage Batch(long[] devices) =>
        new(Guid.NewGuid(), Now, devices.Select(id => new PollTarget(id, Now.AddSeconds(-30))).ToList());

    private static PluginRunResult Answered(PluginRequest request) =>
        new(new PluginResponse(PluginContract.Version,
            request.Targets.Select(t => new PluginResult(t.Id, true, Metrics: [new PluginMetric("cpu_load_percent", 7)])).ToList()), null, TimeSpan.Zero);

    private List<FailureEvent> Failures() =>
        sent.Where(s => s.Queue == Queues.Failures).SelectMany(s => JsonSerializer.Deserialize<FailureBatchMessage>(s.Json, NmsJson.Queue)!.Events).ToList();

    private List<MetricSample> Samples() =>
        sent.Where(s => s.Queue == Queues.Metrics).SelectMany(s => JsonSerializer.Deserialize<MetricsBatchMessage>(s.Json, NmsJson.Queue)!.AllSamples()).ToList();
}
