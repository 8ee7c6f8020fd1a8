using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Logging;
using Nms.Core.Api;
using Nms.Core.Configuration;
using Nms.Core.Diagnostics;

namespace Nms.Core.Queues;

/// <summary>One of the app's queues: messages waiting, and messages that failed every attempt.</summary>
public sealed record QueueDepth(string Queue, string PoisonQueue, long Messages, long PoisonMessages);

public sealed record QueueDepths(IReadOnlyList<QueueDepth> Queues)
{
    public long PoisonMessages => Queues.Sum(q => q.PoisonMessages);
}

/// <summary>What one replay call moved from a poison queue back to its queue.</summary>
public sealed record PoisonReplay(string Queue, string PoisonQueue, int Replayed, long PoisonMessagesLeft);

/// <summary>
/// Queue depths and poison counts per queue, and the way back for poisoned messages. A message
/// lands in <c>&lt;queue&gt;-poison</c> after host.json's <c>maxDequeueCount</c> failed attempts;
/// once its cause is fixed a replay sends it to its queue again. Every consumer is idempotent (batch
/// ids, event ids, outbox rows), so a message that was in fact done, or is replayed twice, changes nothing.
/// </summary>
public sealed class QueueMonitor(StorageQueues queues, QueueNames names, NmsInstruments instruments, ILogger<QueueMonitor> logger)
{
    public const string PoisonSuffix = "-poison";
    public const int DefaultReplay = 100;
    public const int MaxReplay = 1000;

    /// <summary>How long a replayed message stays invisible in the poison queue while it is copied back.</summary>
    private static readonly TimeSpan ReplayLease = TimeSpan.FromSeconds(60);

    private QueueDepths? latest;

    /// <summary>The last reading (the sampler's, the API's or a replay's); null before the first.</summary>
    public QueueDepths? Latest => Volatile.Read(ref latest);

    public async Task<QueueDepths> DepthsAsync(CancellationToken cancellationToken)
    {
        var depths = await Task.WhenAll(names.All.Select(name => DepthAsync(name, cancellationToken)));
        var result = new QueueDepths(depths);
        Volatile.Write(ref latest, result);
        instruments.ReportQueueDepths(depths.Select(d => (d.Queue, d.Messages, d.PoisonMessages)).ToList());
        return result;
    }

    /// <summary>
    /// Moves up to <paramref name="max"/> messages from <paramref name="queue"/>'s poison queue back
    /// to it: each is sent first and deleted after, so a crash in between duplicates, never loses.
    /// </summary>
    public async Task<PoisonReplay> ReplayAsync(string queue, int? max, CancellationToken cancellationToken)
    {
        var name = Known(queue);
        var limit = max ?? DefaultReplay;
        if (limit is < 1 or > MaxReplay)
        {
            throw ProblemException.BadRequest("max", $"'max' must be 1-{MaxReplay}.");
        }

        var target = await queues.GetQueueAsync(name, cancellationToken);
        var poison = await queues.GetQueueAsync(name + PoisonSuffix, cancellationToken);
        var replayed = 0;
        while (replayed < limit)
        {
            QueueMessage[] batch = (await poison.ReceiveMessagesAsync(Math.Min(32, limit - replayed), ReplayLease, cancellationToken)).Value;
            if (batch.Length == 0)
            {
                break;
            }

            foreach (var message in batch)
            {
                await target.SendMessageAsync(message.Body, cancellationToken: cancellationToken);
                await DeleteAsync(poison, message, cancellationToken);
                replayed++;
            }
        }

        var left = (await DepthAsync(name, cancellationToken)).PoisonMessages;
        if (replayed > 0)
        {
            logger.LogWarning("Replayed {Count} messages from {PoisonQueue} to {Queue}; {Left} left", replayed, poison.Name, name, left);
        }

        await DepthsAsync(cancellationToken);
        return new PoisonReplay(name, poison.Name, replayed, left);
    }

    private string Known(string queue) =>
        names.All.FirstOrDefault(n => string.Equals(n, queue, StringComparison.Ordinal))
        ?? throw ProblemException.NotFound($"No queue named '{queue}'; the app's queues are {string.Join(", ", names.All)}.");

    private async Task<QueueDepth> DepthAsync(string name, CancellationToken cancellationToken)
    {
        var messages = await CountAsync(await queues.GetQueueAsync(name, cancellationToken), cancellationToken);
        var poison = await CountAsync(await queues.GetQueueAsync(name + PoisonSuffix, cancellationToken), cancellationToken);
        return new QueueDepth(name, name + PoisonSuffix, messages, poison);
    }

    /// <summary>The service's approximate count: invisible (leased) messages included.</summary>
    private static async Task<long> CountAsync(QueueClient queue, CancellationToken cancellationToken) =>
        (await queue.GetPropertiesAsync(cancellationToken)).Value.ApproximateMessagesCount;

    private static async Task DeleteAsync(QueueClient poison, QueueMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await poison.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Another replay's lease ran out and it took the message: it was sent twice, which consumers absorb.
        }
    }
}
