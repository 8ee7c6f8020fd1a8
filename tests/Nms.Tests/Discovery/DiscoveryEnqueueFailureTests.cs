using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Nms.Core.Discovery;
using Nms.Core.Queues;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Discovery;

/// <summary>When some batches cannot be queued, the run still completes, counting their targets failed.</summary>
public sealed class DiscoveryEnqueueFailureTests : IAsyncLifetime
{
    private readonly FakePlugins plugins = new();
    private DiscoveryHost host = null!;

    public async Task InitializeAsync()
    {
        plugins.Add("allup", """
            ids=$(cat | grep -o '"id":"[0-9.]*"' | cut -d'"' -f4)
            printf '{"contract_version":1,"results":['
            first=1
            for ip in $ids; do [ $first = 1 ] || printf ','; first=0; printf '{"id":"%s","success":true}' "$ip"; done
            printf ']}'
            """);
        host = await DiscoveryHost.StartAsync(plugins.Directory, configureServices: services =>
            services.AddSingleton<IQueueSender>(sp => new FailingFromBatch(sp.GetRequiredService<StorageQueues>(), firstFailing: 2)));
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        plugins.Dispose();
    }

    [Fact]
    public async Task Unsent_batches_leave_the_run_total_and_count_failed_so_the_run_still_completes()
    {
        var credential = await host.InsertSnmpCredentialAsync("enqueue-public", "public");
        // 100 addresses at 32 per batch: batches 0-3; 2 and 3 (32 + 4 addresses) cannot be sent.
        var profile = await host.InsertProfileAsync("enqueue-fails", "127.89.9.1-100", 161, [credential], plugin: "allup");

        using var response = await host.StartRunAsync(profile);
        var body = await response.Content.ReadAsStringAsync();
        var runId = await host.ScalarAsync<Guid>("SELECT id FROM discovery_runs WHERE discovery_profile_id = $1", profile);
        var run = await host.WaitForCompletionAsync(runId);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains(runId.ToString(), body);
        Assert.Equal(100, run.Targets);
        Assert.Equal(2, run.BatchesTotal);
        Assert.Equal(2, run.BatchesDone);
        Assert.Equal(64, run.Provisioned);
        Assert.Equal(36, run.Failed);
        Assert.Contains(run.FailureSamples, s => s.Ip == "*" && s.Error.StartsWith("2 batches could not be queued", StringComparison.Ordinal));
    }

    /// <summary>The real queue for the first batches of a run, an outage from batch <c>firstFailing</c> on.</summary>
    private sealed class FailingFromBatch(StorageQueues queues, int firstFailing) : IQueueSender
    {
        public Task SendAsync<T>(string queueName, T message, CancellationToken cancellationToken) =>
            message is DiscoveryBatchMessage { BatchNo: var batchNo } && batchNo >= firstFailing
                ? throw new InvalidOperationException("queue unavailable (test)")
                : queues.SendAsync(queueName, message, cancellationToken);

        public Task SendLaterAsync<T>(string queueName, T message, TimeSpan visibilityDelay, CancellationToken cancellationToken) =>
            queues.SendLaterAsync(queueName, message, visibilityDelay, cancellationToken);

        public Task SendJsonAsync(string queueName, BinaryData json, CancellationToken cancellationToken) =>
            queues.SendJsonAsync(queueName, json, cancellationToken);
    }
}
