using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Nms.Core.Diagnostics;
using Nms.Core.Observability;

namespace Nms.Core.Resilience;

/// <summary>
/// Runs one queue consumer's work so that an outage of PostgreSQL or the queue service is not a message failure:
/// while the circuit is open the invocation waits (holding its message, whose lease the host keeps renewing), then
/// runs the work again; every consumer is idempotent, so a second run after a failure part-way is safe. A transient
/// error while the dependency still answers (a blip, a restart's stale pooled connections) is retried a few times
/// with backoff inside the attempt. Anything else, and an outage longer than the hold limit, is an ordinary failure:
/// the host retries the message and, after maxDequeueCount attempts, moves it to the poison queue.
/// The same code runs under both hosts, because it runs inside the function.
/// </summary>
public sealed partial class ConsumerGate(
    DependencyCircuit circuit,
    ResilienceOptions options,
    NmsInstruments instruments,
    TimeProvider time,
    ILogger<ConsumerGate> logger)
{
    /// <param name="traceParent">The W3C trace context the message carries, if any: this invocation's span is its child.</param>
    public async Task RunAsync(string consumer, Func<CancellationToken, Task> work, CancellationToken cancellationToken, Guid? batchId = null, string? traceParent = null)
    {
        using var activity = StartActivity(consumer, traceParent);
        activity?.SetTag("nms.batch_id", batchId?.ToString());
        var deadline = time.GetUtcNow() + TimeSpan.FromSeconds(Math.Max(1, options.MaxHoldSeconds));
        using var scope = ConsumerScope.Enter(deadline);
        var blips = 0;
        while (true)
        {
            await HoldWhileOpenAsync(consumer, deadline, cancellationToken);
            try
            {
                await work(cancellationToken);
                return;
            }
            catch (Exception error) when (!cancellationToken.IsCancellationRequested && OutageClassifier.Suspects(error).Count > 0)
            {
                if (await circuit.ConfirmOutageAsync(error, cancellationToken))
                {
                    continue;
                }

                if (++blips > options.BlipRetries)
                {
                    throw;
                }

                LogBlip(consumer, blips, error.GetType().Name, error.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(250 << blips), time, cancellationToken);
            }
        }
    }

    private static Activity? StartActivity(string consumer, string? traceParent) =>
        ActivityContext.TryParse(traceParent, null, isRemote: true, out var parent)
            ? NmsActivities.Source.StartActivity(consumer, ActivityKind.Consumer, parent)
            : NmsActivities.Source.StartActivity(consumer, ActivityKind.Consumer);

    private async Task HoldWhileOpenAsync(string consumer, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        if (!circuit.IsOpen)
        {
            return;
        }

        instruments.ConsumerHolds.Add(1, new KeyValuePair<string, object?>("consumer", consumer));
        var held = time.GetUtcNow();
        LogHolding(consumer, string.Join(", ", circuit.OpenCircuits.Select(c => c.Dependency)));
        await circuit.WaitClosedAsync(deadline, cancellationToken);
        LogResumed(consumer, (time.GetUtcNow() - held).TotalSeconds);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Consumer} holds its message: {Dependencies} down")]
    private partial void LogHolding(string consumer, string dependencies);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Consumer} resumes after holding its message {HeldSeconds:F1} s")]
    private partial void LogResumed(string consumer, double heldSeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Consumer}: transient {ErrorType} while the dependency answers (retry {Retry} in this attempt): {Error}")]
    private partial void LogBlip(string consumer, int retry, string errorType, string error);
}
