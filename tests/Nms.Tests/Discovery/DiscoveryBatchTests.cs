using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Nms.Core.Configuration;
using Nms.Core.Discovery;
using Nms.Core.Queues;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Discovery;

/// <summary>
/// The batch worker's edge cases on the running app: redelivered batches, plugins that crash, hang
/// or print garbage, and the ping pre-check. Fake plugins are shell scripts in a temporary directory.
/// </summary>
public sealed class DiscoveryBatchTests(DiscoveryBatchTests.Fixture fixture) : IClassFixture<DiscoveryBatchTests.Fixture>
{
    private DiscoveryHost Host => fixture.Host;

    // Answers every target as a device named after its address; SLEEP seconds first when set.
    private const string AllUp = """
        ids=$(cat | grep -o '"id":"[0-9.]*"' | cut -d'"' -f4)
        [ -n "$SLEEP" ] && sleep "$SLEEP"
        printf '{"contract_version":1,"results":['
        first=1
        for ip in $ids; do
          [ $first = 1 ] || printf ','
          first=0
          printf '{"id":"%s","success":true,"hostname":"h-%s","description":"fake"}' "$ip" "$ip"
        done
        printf ']}'
        """;

    public sealed class Fixture : IAsyncLifetime
    {
        private readonly FakePlugins plugins = new();

        public DiscoveryHost Host { get; private set; } = null!;

        public long CredentialId { get; private set; }

        public async Task InitializeAsync()
        {
            plugins.Add("allup", AllUp);
            plugins.Add("slowup", "SLEEP=1\n" + AllUp);
            // Starts answering, then dies mid-output.
            plugins.Add("crash", "cat >/dev/null\nprintf '{\"contract_version\":1,\"results\":[{\"id\"'\nkill -9 $$");
            plugins.Add("hang", "cat >/dev/null\nsleep 600");
            plugins.Add("garbage", "cat >/dev/null\necho 'this is not json'");
            // Answers only the first target and says nothing about the rest.
            plugins.Add("partial", """
                ip=$(cat | grep -o '"id":"[0-9.]*"' | head -n 1 | cut -d'"' -f4)
                printf '{"contract_version":1,"results":[{"id":"%s","success":false,"error":"auth error: wrong community"}]}' "$ip"
                """);
            Host = await DiscoveryHost.StartAsync(plugins.Directory, new Dictionary<string, string?>
            {
                ["Nms__Plugins__RunTimeoutSeconds"] = "2",
                ["Nms__Reachability__TimeoutMilliseconds"] = "200",
                ["Nms__Reachability__Retries"] = "0",
                ["Nms__Discovery__FailureSampleSize"] = "5",
            });
            CredentialId = await Host.InsertSnmpCredentialAsync("batch-public", "public");
        }

        public async Task DisposeAsync()
        {
            await Host.DisposeAsync();
            plugins.Dispose();
        }
    }

    private async Task<DiscoveryRunView> RunAsync(string name, string target, string plugin, bool pingPrecheck = false)
    {
        var profile = await Host.InsertProfileAsync(name, target, 161, [fixture.CredentialId], plugin: plugin, pingPrecheck: pingPrecheck);
        return await Host.WaitForCompletionAsync(await Host.StartRunOkAsync(profile));
    }

    /// <summary>A run row written by hand, so the test delivers its batches itself.</summary>
    private async Task<(Guid RunId, long ProfileId)> QueuedRunAsync(string name, string target, string plugin, int batches)
    {
        var profile = await Host.InsertProfileAsync(name, target, 161, [fixture.CredentialId], plugin: plugin);
        var runId = Guid.NewGuid();
        await Host.ExecuteAsync(
            "INSERT INTO discovery_runs (id, discovery_profile_id, status, targets, batches_total, created_at) VALUES ($1, $2, 'queued', $3, $4, now())",
            runId, profile, DiscoveryTarget.Parse(target, 65_536).Count, batches);
        return (runId, profile);
    }

    [Fact]
    public async Task Batch_delivered_twice_at_the_same_time_is_counted_once()
    {
        var (runId, profile) = await QueuedRunAsync("twice-parallel", "127.89.1.1-8", "slowup", batches: 2);
        var worker = Host.Services.GetRequiredService<DiscoveryWorker>();
        var first = new DiscoveryBatchMessage(runId, 0, profile, ["127.89.1.1", "127.89.1.2", "127.89.1.3", "127.89.1.4"]);
        var second = new DiscoveryBatchMessage(runId, 1, profile, ["127.89.1.5", "127.89.1.6", "127.89.1.7", "127.89.1.8"]);

        // Both deliveries pass the early "already counted?" check while the plugin sleeps; the batch row decides.
        await Task.WhenAll(worker.ProcessAsync(first, CancellationToken.None), worker.ProcessAsync(first, CancellationToken.None));
        var afterFirst = await Host.GetRunAsync(runId);
        await worker.ProcessAsync(second, CancellationToken.None);
        await worker.ProcessAsync(second, CancellationToken.None);
        var run = await Host.GetRunAsync(runId);

        Assert.Equal(1, afterFirst.BatchesDone);
        Assert.Equal("running", afterFirst.Status);
        Assert.Equal(4, afterFirst.Provisioned);
        Assert.Equal("completed", run.Status);
        Assert.Equal(2, run.BatchesDone);
        Assert.Equal(8, run.Responded);
        Assert.Equal(8, run.Provisioned);
        Assert.Equal(0, run.AlreadyKnown);
        Assert.Equal(0, run.Failed);
        Assert.Equal(8, (await Host.DevicesInAsync("127.89.1.0/24")).Count);
    }

    [Fact]
    public async Task Batch_redelivered_on_the_queue_after_the_run_completed_changes_nothing()
    {
        var run = await RunAsync("redelivered", "127.89.2.1-40", "allup");
        var devicesBefore = await Host.DevicesInAsync("127.89.2.0/24");
        var finishedBefore = await Host.ScalarAsync<DateTime>("SELECT finished_at FROM discovery_runs WHERE id = $1", run.Id);
        var queues = Host.Services.GetRequiredService<IQueueSender>();
        var queueName = Host.Services.GetRequiredService<QueueNames>().Discovery;

        // Batch 1 of 40 addresses at 32 per batch: the last 8.
        int AlreadyCountedLines() => Host.Logs.Lines.Count(line => line.Contains($"Discovery run {run.Id} batch 1 was already counted", StringComparison.Ordinal));
        var alreadyCountedBefore = AlreadyCountedLines();
        var again = new DiscoveryBatchMessage(run.Id, 1, run.DiscoveryProfileId, Enumerable.Range(33, 8).Select(i => $"127.89.2.{i}").ToList());
        await queues.SendAsync(queueName, again, CancellationToken.None);
        // The worker's own evidence that it took this delivery and found the batch counted.
        await TestApp.EventuallyAsync(
            () => Task.FromResult(AlreadyCountedLines() > alreadyCountedBefore), "the redelivered batch to be recognised as already counted");
        var after = await Host.GetRunAsync(run.Id);

        Assert.Equal(40, run.Provisioned);
        Assert.Equal(run with { FailureSamples = [] }, after with { FailureSamples = [] });
        Assert.Equal(finishedBefore, await Host.ScalarAsync<DateTime>("SELECT finished_at FROM discovery_runs WHERE id = $1", run.Id));
        Assert.Equal(devicesBefore, await Host.DevicesInAsync("127.89.2.0/24"));
    }

    [Fact]
    public async Task Plugin_that_crashes_mid_batch_fails_every_target_with_the_reason_and_the_run_completes()
    {
        var run = await RunAsync("crash", "127.89.3.1-40", "crash");

        Assert.Equal("completed", run.Status);
        Assert.Equal(2, run.BatchesDone);
        Assert.Equal(40, run.Failed);
        Assert.Equal(0, run.Responded);
        Assert.Equal(5, run.FailureSamples.Count);
        Assert.All(run.FailureSamples, s => Assert.StartsWith("plugin failed: plugin exited with code 137", s.Error));
        Assert.Empty(await Host.DevicesInAsync("127.89.3.0/24"));
    }

    [Fact]
    public async Task Only_the_runs_first_failures_are_logged_at_information_the_rest_at_debug()
    {
        var run = await RunAsync("quiet-log", "127.89.8.1-100", "garbage");

        var lines = Host.Logs.Lines.Where(l => l.Contains(run.Id.ToString(), StringComparison.Ordinal)).ToList();
        var perTarget = lines.Where(l => l.Contains("did not become a device", StringComparison.Ordinal)).ToList();
        Assert.Equal(100, run.Failed);
        Assert.Equal(5, perTarget.Count(l => l.StartsWith("Information ", StringComparison.Ordinal)));
        Assert.Equal(95, perTarget.Count(l => l.StartsWith("Debug ", StringComparison.Ordinal)));
        Assert.Single(lines, l => l.StartsWith("Information ", StringComparison.Ordinal) && l.Contains("completed: 100 targets, 0 responded, 0 provisioned, 0 already known, 100 failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Plugin_that_hangs_is_killed_at_the_run_timeout_and_its_targets_fail()
    {
        var watch = Stopwatch.StartNew();
        var run = await RunAsync("hang", "127.89.4.1-40", "hang");

        Assert.Equal("completed", run.Status);
        Assert.Equal(40, run.Failed);
        Assert.All(run.FailureSamples, s => Assert.Contains("timed out after 2 s", s.Error));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Plugin_that_prints_garbage_fails_its_targets_with_the_reason()
    {
        var run = await RunAsync("garbage", "127.89.5.1-10", "garbage");

        Assert.Equal(10, run.Failed);
        Assert.All(run.FailureSamples, s => Assert.Contains("invalid JSON", s.Error));
    }

    [Fact]
    public async Task Targets_the_plugin_says_nothing_about_count_as_failed()
    {
        var run = await RunAsync("partial", "127.89.6.1-3", "partial");

        Assert.Equal(3, run.Failed);
        Assert.Equal(0, run.Responded);
        Assert.Equal(new DiscoveryFailureSample("127.89.6.1", "auth error: wrong community"), run.FailureSamples[0]);
        Assert.Equal(DiscoveryWorker.NoResult, run.FailureSamples[1].Error);
    }

    [Fact]
    public async Task Ping_precheck_skips_addresses_that_drop_icmp_and_is_off_by_default()
    {
        using var blackhole = new IcmpBlackhole();
        var silent = $"{blackhole.Prefix}.1-{blackhole.Prefix}.6";
        var answering = "127.89.7.1-127.89.7.4";

        var checkedRun = await RunAsync("ping-on", $"{silent},{answering}", "allup", pingPrecheck: true);

        Assert.Equal(10, checkedRun.Targets);
        Assert.Equal(4, checkedRun.Provisioned);
        Assert.Equal(6, checkedRun.Failed);
        Assert.All(checkedRun.FailureSamples, s => Assert.Equal(DiscoveryWorker.NoPingReply, s.Error));
        Assert.All(checkedRun.FailureSamples, s => Assert.StartsWith(blackhole.Prefix + ".", s.Ip));

        // Without the pre-check, a device that drops ICMP is still found by the plugin.
        var uncheckedRun = await RunAsync("ping-off", silent, "allup");

        Assert.Equal(6, uncheckedRun.Provisioned);
        Assert.Equal(0, uncheckedRun.Failed);
    }
}
