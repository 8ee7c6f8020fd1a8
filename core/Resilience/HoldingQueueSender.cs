using Nms.Core.Queues;

namespace Nms.Core.Resilience;

/// <summary>
/// The app's <see cref="IQueueSender"/>: inside a consumer invocation (<see cref="ConsumerScope"/>) a send that fails
/// because the queue service is down waits for it and sends again, so the poller keeps the samples it took instead
/// of failing its poll message (and polling again, doubling what it sent before the failure). Elsewhere it is the
/// plain sender. A send repeated after a lost reply may deliver twice; consumers are idempotent by batch id.
/// </summary>
public sealed class HoldingQueueSender(StorageQueues inner, DependencyCircuit circuit) : IQueueSender
{
    public Task SendAsync<T>(string queueName, T message, CancellationToken cancellationToken) =>
        HoldAsync(ct => inner.SendAsync(queueName, message, ct), cancellationToken);

    public Task SendJsonAsync(string queueName, BinaryData json, CancellationToken cancellationToken) =>
        HoldAsync(ct => inner.SendJsonAsync(queueName, json, ct), cancellationToken);

    public Task SendLaterAsync<T>(string queueName, T message, TimeSpan visibilityDelay, CancellationToken cancellationToken) =>
        HoldAsync(ct => inner.SendLaterAsync(queueName, message, visibilityDelay, ct), cancellationToken);

    private async Task HoldAsync(Func<CancellationToken, Task> send, CancellationToken cancellationToken)
    {
        if (ConsumerScope.Current is not { } scope)
        {
            await send(cancellationToken);
            return;
        }

        while (true)
        {
            try
            {
                await send(cancellationToken);
                return;
            }
            catch (Exception error) when (!cancellationToken.IsCancellationRequested && OutageClassifier.Suspects(error).Contains(Dependency.Queues))
            {
                if (!await circuit.ConfirmOutageAsync(error, cancellationToken))
                {
                    throw;
                }

                await circuit.WaitClosedAsync(scope.Deadline, cancellationToken);
            }
        }
    }
}
