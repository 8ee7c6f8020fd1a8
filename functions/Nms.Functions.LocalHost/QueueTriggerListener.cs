using Azure.Core.Serialization;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Nms.Core.Queues;
using Nms.Core.Resilience;

namespace Nms.Functions.LocalHost;

/// <summary>
/// One queue trigger, as the Functions host runs it: fetch up to batchSize messages, fetch again
/// when in-flight work drops to newBatchThreshold, back off to maxPollingInterval when idle. A
/// failed message becomes visible again after visibilityTimeout; after maxDequeueCount attempts
/// it moves to <c>&lt;queue&gt;-poison</c>. On shutdown in-flight work gets a grace period; what
/// does not finish goes back to the queue at once. Like the host, it leases a message for a short
/// time and renews the lease while the function runs, so the messages of a killed process come
/// back within <see cref="LeaseTime"/>. While the consumers' circuit is open (PostgreSQL or the
/// queue service down) it takes no new messages: they would only spend delivery attempts.
/// </summary>
public sealed class QueueTriggerListener : BackgroundService
{
    private static readonly TimeSpan MinimumPollingInterval = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan LeaseTime = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan LeaseRenewal = TimeSpan.FromSeconds(10);

    private readonly FunctionDescriptor function;
    private readonly FunctionInvoker invoker;
    private readonly QueueSettings settings;
    private readonly DependencyCircuit? circuit;
    private readonly TimeSpan shutdownGrace;
    private readonly ObjectSerializer serializer;
    private readonly ILogger logger;
    private readonly QueueClient queue;
    private readonly QueueClient poison;
    private readonly CancellationTokenSource hardStop = new();
    private readonly HashSet<Task> inFlight = [];

    public QueueTriggerListener(FunctionDescriptor function, FunctionInvoker invoker, HostJson hostJson, IConfiguration configuration,
        IOptions<WorkerOptions> workerOptions, ILoggerFactory loggerFactory, TimeSpan shutdownGrace, DependencyCircuit? circuit = null)
    {
        this.circuit = circuit;
        this.function = function;
        this.invoker = invoker;
        this.shutdownGrace = shutdownGrace;
        settings = hostJson.Queues;
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

                if (circuit is { IsOpen: true })
                {
                    await circuit.WaitClosedAsync(DateTimeOffset.MaxValue, stoppingToken);
                    continue;
                }

                QueueMessage[] messages = await queue.ReceiveMessagesAsync(settings.BatchSize, LeaseTime, stoppingToken);
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
                // The queue service down: open the circuit (every consumer holds, /api/health says so) and wait for
                // its probe, so receiving resumes within a probe interval of the service coming back.
                if (circuit is not null && !stoppingToken.IsCancellationRequested && await ConfirmOutageAsync(ex, stoppingToken))
                {
                    continue;
                }

                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        await DrainAsync();
    }

    private async Task<bool> ConfirmOutageAsync(Exception error, CancellationToken stoppingToken)
    {
        try
        {
            return await circuit!.ConfirmOutageAsync(error, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task ProcessAsync(QueueMessage message)
    {
        var lease = new Lease(message.MessageId, message.PopReceipt);
        if (message.DequeueCount > settings.MaxDequeueCount)
        {
            await SettleAsync(message, () => MoveToPoisonAsync(message, lease));
            return;
        }

        using var renewal = new CancellationTokenSource();
        var renewing = RenewAsync(lease, renewal.Token);
        bool succeeded;
        try
        {
            var trigger = await BindAsync(message, hardStop.Token);
            await invoker.InvokeAsync(function, trigger, null, hardStop.Token);
            succeeded = true;
        }
        catch (OperationCanceledException) when (hardStop.IsCancellationRequested)
        {
            await StopRenewingAsync(renewal, renewing);
            await ReleaseAsync(lease, TimeSpan.Zero);
            return;
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Function {Function} failed on message {MessageId} (attempt {Attempt} of {MaxAttempts})",
                function.Name, message.MessageId, message.DequeueCount, settings.MaxDequeueCount);
            succeeded = false;
        }

        await StopRenewingAsync(renewal, renewing);
        await SettleAsync(message, () => succeeded
            ? queue.DeleteMessageAsync(lease.MessageId, lease.PopReceipt, CancellationToken.None)
            : message.DequeueCount >= settings.MaxDequeueCount
                ? MoveToPoisonAsync(message, lease)
                : ReleaseAsync(lease, settings.VisibilityTimeout));
    }

    private async Task SettleAsync(QueueMessage message, Func<Task> settle)
    {
        try
        {
            await settle();
        }
        catch (Exception ex)
        {
            // The queue service is gone or the lease lapsed: the message comes back when its lease ends, and the
            // consumer is idempotent, so a second delivery of work already done changes nothing.
            logger.LogWarning(ex, "Could not settle message {MessageId} of {Queue}; it returns when its lease ends", message.MessageId, QueueName);
        }
    }

    /// <summary>Keeps the message invisible while the function runs, as the Functions host does.</summary>
    private async Task RenewAsync(Lease lease, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                await Task.Delay(LeaseRenewal, cancellationToken);
                var renewed = await queue.UpdateMessageAsync(lease.MessageId, lease.PopReceipt, visibilityTimeout: LeaseTime, cancellationToken: cancellationToken);
                lease.PopReceipt = renewed.Value.PopReceipt;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Azure.RequestFailedException ex) when (ex.Status is 400 or 404)
            {
                // Someone else holds it now (the lease lapsed during an outage); our settling will fail harmlessly.
                return;
            }
            catch (Exception ex)
            {
                logger.LogDebug(ex, "Renewing the lease of message {MessageId} failed; trying again", lease.MessageId);
            }
        }
    }

    private static async Task StopRenewingAsync(CancellationTokenSource renewal, Task renewing)
    {
        await renewal.CancelAsync();
        await renewing;
    }

    /// <summary>The message's current pop receipt: every renewal gives a new one.</summary>
    private sealed class Lease(string messageId, string popReceipt)
    {
        public string MessageId { get; } = messageId;
        public string PopReceipt { get; set; } = popReceipt;
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

    private async Task MoveToPoisonAsync(QueueMessage message, Lease lease)
    {
        await poison.CreateIfNotExistsAsync(cancellationToken: CancellationToken.None);
        await poison.SendMessageAsync(message.Body, cancellationToken: CancellationToken.None);
        await queue.DeleteMessageAsync(lease.MessageId, lease.PopReceipt, CancellationToken.None);
        logger.LogWarning("Message {MessageId} moved to {PoisonQueue} after {Attempts} attempts", message.MessageId, poison.Name, message.DequeueCount);
    }

    private async Task ReleaseAsync(Lease lease, TimeSpan visibleAfter)
    {
        try
        {
            await queue.UpdateMessageAsync(lease.MessageId, lease.PopReceipt, visibilityTimeout: visibleAfter, cancellationToken: CancellationToken.None);
        }
        catch (Exception ex) when (ex is Azure.RequestFailedException or HttpRequestException or AggregateException)
        {
            // The lease lapsed or the queue service is away; the message is visible again when the lease ends.
            logger.LogDebug(ex, "Could not release message {MessageId}", lease.MessageId);
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
