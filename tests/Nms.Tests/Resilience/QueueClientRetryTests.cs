using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Queues;
using Nms.Core.Queues;
using Nms.Core.Resilience;
using Nms.Testing;

namespace Nms.Tests.Resilience;

/// <summary>
/// The app's queue clients give a request up after a few quick tries, so a receive or a send never sleeps in the
/// SDK's backoff once the queue service is back: waiting out an outage is the dependency circuit's job.
/// </summary>
public sealed class QueueClientRetryTests
{
    [Fact]
    public async Task A_request_to_a_queue_service_that_is_down_is_tried_the_configured_times_then_fails_as_a_queue_outage()
    {
        var tries = new CountingPolicy();
        var options = StorageQueues.ClientOptions();
        options.AddPolicy(tries, HttpPipelinePosition.PerRetry);
        var port = FreePort.Tcp(); // nothing listens there: every try is refused
        var queue = new QueueClient(AzuriteServer.QueueConnectionString(port), "poll", options);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => queue.ReceiveMessagesAsync(16, TimeSpan.FromSeconds(30)));

        Assert.Equal(StorageQueues.MaxRetries + 1, tries.Count);
        Assert.Contains(Dependency.Queues, OutageClassifier.Suspects(error));
        Assert.True(options.Retry.MaxDelay <= TimeSpan.FromSeconds(1), $"the longest sleep between tries is {options.Retry.MaxDelay}");
    }

    private sealed class CountingPolicy : HttpPipelineSynchronousPolicy
    {
        private int count;

        public int Count => Volatile.Read(ref count);

        public override void OnSendingRequest(HttpMessage message) => Interlocked.Increment(ref count);
    }
}
