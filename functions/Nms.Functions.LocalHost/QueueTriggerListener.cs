using Azure.Core.Serialization;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Nms.Core.Queues;

namespace Nms.Functions.LocalHost;

/// <summary>
/// One queue trigger, as the Functions host runs it: fetch up to batchSize messages, fetch again
/// when in-flight work drops to newBatchThreshold, back off to maxPollingInterval when idle. A
/// failed message becomes visible again after visibilityTimeout; after maxDequeueCount attempts
/// it moves to <c>&lt;queue&gt;-poison</c>. On shutdown in-flight work gets a grace period; what
/// does not finish goes back to the queue at once.
/// </summary>
public sealed class QueueTriggerListener : BackgroundService
{
    private static readonly TimeSpan MinimumPollingInterval = TimeSpan.FromMilliseconds(100);

    private readonly FunctionDescriptor function;
    private readonly FunctionInvoker invoker;
    private readonly QueueSettings settings;
    private readonly TimeSpan leaseTime;
    private readonly TimeSpan shutdownGrace;
    private readonly ObjectSerializer serializer;
    private readonly ILogger logger;
    private readonly QueueClient queue;
    private readonly QueueClient poison;
    private readonly CancellationTokenSource hardStop = new();
    private readonly HashSet<Task> inFlight = [];

    public QueueTriggerListener(FunctionDescriptor function, FunctionInvoker invoker, HostJson hostJson, IConfiguration configuration,
        IOptions<WorkerOptions> workerOptions, ILoggerFactory loggerFactory, TimeSpan shutdownGrace)
    {
        this.function = function;
        this.invoker = invoker;
        this.shutdownGrace = shutdownGrace;
        settings = hostJson.Queues;
        leaseTime = hostJson.FunctionTimeout + TimeSpan.FromSeconds(30);
        serializer = workerOptions.Value.Serializer ?? new JsonObjectSerializer();
        logger = loggerFactory.CreateLogger($"Function.{function.Name}");
        var service = StorageQueues.CreateServiceClient(configuration, function.Queue.Connection ?? StorageQueues.ConnectionSetting);
        QueueName = BindingExpressions.Resolve(function.Queue.QueueName, configuration);
        queue = service.GetQueueClient(QueueName);
        poison = service.GetQueueClient(QueueName + "-poison");
    }

    public string QueueName { get; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var idleDelay = MinimumPollingInterval;
        var created = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!created)
                {
                    await queue.CreateIfNotExistsAsync(cancellationToken: stoppingToken);
                    created = true;
                }

                if (InFlightCount() > settings.NewBatchThreshold)
                {
                    await WaitForAnyAsync(stoppingToken);
                    continue;
                }

                QueueMessage[] messages = await queue.ReceiveMessagesAsync(settings.BatchSize, leaseTime, stoppingToken);
                if (messages.Length == 0)
                {
                    await Task.Delay(idleDelay, stoppingToken);
                    idleDelay = TimeSpan.FromTicks(Math.Min(idleDelay.Ticks * 2, settings.PollingCeiling.Ticks));
                    continue;
                }

                idleDelay = MinimumPollingInterval;
                foreach (var message in messages)
                {
                    Track(ProcessAsync(message));
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Receiving from queue {Queue} failed; retrying", QueueName);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        await DrainAsync();
    }

    private async Task ProcessAsync(QueueMessage message)
    {
        if (message.DequeueCount > settings.MaxDequeueCount)
        {
            await MoveToPoisonAsync(message);
            return;
        }

        try
        {
            var trigger = await BindAsync(message, hardStop.Token);
            await invoker.InvokeAsync(function, trigger, null, hardStop.Token);
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None);
        }
        catch (OperationCanceledException) when (hardStop.IsCancellationRequested)
        {
            await ReleaseAsync(message, TimeSpan.Zero);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Function {Function} failed on message {MessageId} (attempt {Attempt} of {MaxAttempts})",
                function.Name, message.MessageId, message.DequeueCount, settings.MaxDequeueCount);
            if (message.DequeueCount >= settings.MaxDequeueCount)
            {
                await MoveToPoisonAsync(message);
            }
            else
            {
                await ReleaseAsync(message, settings.VisibilityTimeout);
            }
        }
    }

    private async ValueTask<object?> BindAsync(QueueMessage message, CancellationToken cancellationToken)
    {
        var type = function.TriggerParameter.ParameterType;
        if (type == typeof(QueueMessage))
        {
            return message;
        }

        if (type == typeof(string))
        {
            return message.Body.ToString();
        }

        if (type == typeof(BinaryData))
        {
            return message.Body;
        }

        if (type == typeof(byte[]))
        {
            return message.Body.ToArray();
        }

        using var stream = message.Body.ToStream();
        return await serializer.DeserializeAsync(stream, type, cancellationToken)
            ?? throw new InvalidOperationException($"Message {message.MessageId} deserialised to null.");
    }

    private async Task MoveToPoisonAsync(QueueMessage message)
    {
        await poison.CreateIfNotExistsAsync(cancellationToken: CancellationToken.None);
        await poison.SendMessageAsync(message.Body, cancellationToken: CancellationToken.None);
        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None);
        logger.LogWarning("Message {MessageId} moved to {PoisonQueue} after {Attempts} attempts", message.MessageId, poison.Name, message.DequeueCount);
    }

    private async Task ReleaseAsync(QueueMessage message, TimeSpan visibleAfter)
    {
        try
        {
            await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: visibleAfter, cancellationToken: CancellationToken.None);
        }
        catch (Azure.RequestFailedException ex)
        {
            // The lease lapsed; the message is visible again anyway.
            logger.LogDebug(ex, "Could not release message {MessageId}", message.MessageId);
        }
    }

    private async Task DrainAsync()
    {
        Task[] pending;
        lock (inFlight)
        {
            pending = [.. inFlight];
        }

        if (pending.Length == 0)
        {
            return;
        }

        hardStop.CancelAfter(shutdownGrace);
        await Task.WhenAll(pending);
    }

    private void Track(Task task)
    {
        lock (inFlight)
        {
            inFlight.Add(task);
        }

        _ = task.ContinueWith(done =>
        {
            lock (inFlight)
            {
                inFlight.Remove(done);
            }
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private int InFlightCount()
    {
        lock (inFlight)
        {
            return inFlight.Count;
        }
    }

    private async Task WaitForAnyAsync(CancellationToken cancellationToken)
    {
        Task[] pending;
        lock (inFlight)
        {
            pending = [.. inFlight];
        }

        if (pending.Length > 0)
        {
            await Task.WhenAny(pending).WaitAsync(cancellationToken);
        }
    }

    public override void Dispose()
    {
        hardStop.Dispose();
        base.Dispose();
    }
}
