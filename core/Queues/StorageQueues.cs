using System.Collections.Concurrent;
using System.Text.Json;
using Azure.Identity;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Nms.Core.Configuration;

namespace Nms.Core.Queues;

/// <summary>Sends a message to a queue. Messages carry ids and addresses, never secrets.</summary>
public interface IQueueSender
{
    Task SendAsync<T>(string queueName, T message, CancellationToken cancellationToken);

    /// <summary>Sends a message that stays invisible for <paramref name="visibilityDelay"/> first (a retry with backoff).</summary>
    Task SendLaterAsync<T>(string queueName, T message, TimeSpan visibilityDelay, CancellationToken cancellationToken);

    /// <summary>Sends a message already serialised in <see cref="NmsJson.Queue"/> style, as it is.</summary>
    Task SendJsonAsync(string queueName, BinaryData json, CancellationToken cancellationToken);
}

/// <summary>
/// Queue clients for the <c>AzureWebJobsStorage</c> account. Base64 encoding is not optional:
/// the queue trigger decodes Base64 and poisons anything else.
/// </summary>
public sealed class StorageQueues : IQueueSender
{
    public const string ConnectionSetting = "AzureWebJobsStorage";

    private readonly QueueServiceClient service;
    private readonly ConcurrentDictionary<string, Lazy<Task<QueueClient>>> queues = new(StringComparer.Ordinal);

    public StorageQueues(QueueServiceClient service) => this.service = service;

    /// <summary>Tries of one request: the first and <see cref="MaxRetries"/> more.</summary>
    public const int MaxRetries = 3;

    /// <summary>
    /// Base64, and a short retry. The SDK's default (5 retries, 0.8 s doubling to 12.8 s) keeps one failing request
    /// going for about 25 s and leaves it asleep for up to 13 s after the queue service is back: measured in
    /// <c>./nms bench chaos</c>, the scheduler tick that popped every device during an Azurite outage sent them
    /// 13 s late. An outage is waited out by the dependency circuit instead, which probes every second; the
    /// scheduler gives its deadlines back and tries again next tick.
    /// </summary>
    public static QueueClientOptions ClientOptions()
    {
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        options.Retry.Mode = Azure.Core.RetryMode.Exponential;
        options.Retry.MaxRetries = MaxRetries;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(1);
        // A queue request answers in milliseconds; Azurite saving its state on SIGTERM holds connections open
        // without answering, which the default (100 s) would wait out once per try.
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(20);
        return options;
    }

    /// <summary>A connection string, or <c>AzureWebJobsStorage__queueServiceUri</c> with a managed identity.</summary>
    public static QueueServiceClient CreateServiceClient(IConfiguration configuration, string connection = ConnectionSetting)
    {
        var connectionString = configuration[connection];
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            return new QueueServiceClient(connectionString, ClientOptions());
        }

        var uri = configuration[$"{connection}:queueServiceUri"];
        if (!string.IsNullOrWhiteSpace(uri))
        {
            return new QueueServiceClient(new Uri(uri), new DefaultAzureCredential(), ClientOptions());
        }

        throw new InvalidOperationException($"Neither {connection} nor {connection}__queueServiceUri is set.");
    }

    public QueueServiceClient Service => service;

    public Task<QueueClient> GetQueueAsync(string name, CancellationToken cancellationToken) =>
        queues.GetOrAdd(name, n => new Lazy<Task<QueueClient>>(() => CreateAsync(n, cancellationToken))).Value;

    public Task SendAsync<T>(string queueName, T message, CancellationToken cancellationToken) =>
        SendJsonAsync(queueName, BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(message, NmsJson.Queue)), cancellationToken);

    public async Task SendLaterAsync<T>(string queueName, T message, TimeSpan visibilityDelay, CancellationToken cancellationToken)
    {
        var queue = await GetQueueAsync(queueName, cancellationToken);
        await queue.SendMessageAsync(BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(message, NmsJson.Queue)), visibilityDelay, cancellationToken: cancellationToken);
    }

    public async Task SendJsonAsync(string queueName, BinaryData json, CancellationToken cancellationToken)
    {
        var queue = await GetQueueAsync(queueName, cancellationToken);
        await queue.SendMessageAsync(json, cancellationToken: cancellationToken);
    }

    private async Task<QueueClient> CreateAsync(string name, CancellationToken cancellationToken)
    {
        var queue = service.GetQueueClient(name);
        try
        {
            await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        }
        catch
        {
            queues.TryRemove(name, out _);
            throw;
        }

        return queue;
    }
}
