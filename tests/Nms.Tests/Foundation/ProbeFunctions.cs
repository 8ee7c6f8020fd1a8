using System.Collections.Concurrent;
using Microsoft.Azure.Functions.Worker;

namespace Nms.Tests.Foundation;

public sealed record ProbeMessage(string Id, string Text, int Number);

/// <summary>What the probe functions saw, per test app (keyed by its queue prefix).</summary>
public sealed class ProbeLog
{
    public ConcurrentQueue<ProbeMessage> Received { get; } = new();
    public ConcurrentQueue<DateTimeOffset> Ticks { get; } = new();

    /// <summary>The schedule occurrence each tick ran for (TimerInfo.ScheduleStatus.LastUpdated).</summary>
    public ConcurrentQueue<DateTime> Occurrences { get; } = new();
    public int Failures;
    public int Cancelled;
    public TaskCompletionSource SlowStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource SlowMayFinish { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// Test-only functions, hosted by the local host exactly like the app's own: they exercise the
/// host's queue, poison, timer and shutdown behaviour without depending on any feature.
/// </summary>
public sealed class ProbeFunctions(ProbeLog log, TimeProvider time)
{
    [Function("ProbeEcho")]
    public void Echo([QueueTrigger("%ProbeEchoQueue%", Connection = "AzureWebJobsStorage")] ProbeMessage message) =>
        log.Received.Enqueue(message);

    [Function("ProbeAlwaysFails")]
    public void AlwaysFails([QueueTrigger("%ProbeFailQueue%", Connection = "AzureWebJobsStorage")] ProbeMessage message)
    {
        Interlocked.Increment(ref log.Failures);
        throw new InvalidOperationException($"probe failure for {message.Id}");
    }

    [Function("ProbeSlow")]
    public async Task Slow([QueueTrigger("%ProbeSlowQueue%", Connection = "AzureWebJobsStorage")] ProbeMessage message, CancellationToken cancellationToken)
    {
        log.SlowStarted.TrySetResult();
        try
        {
            await log.SlowMayFinish.Task.WaitAsync(cancellationToken);
            log.Received.Enqueue(message);
        }
        catch (OperationCanceledException)
        {
            Interlocked.Increment(ref log.Cancelled);
            throw;
        }
    }

    [Function("ProbeTimer")]
    public void Tick([TimerTrigger("%ProbeTimerSchedule%")] TimerInfo timer)
    {
        log.Ticks.Enqueue(time.GetUtcNow());
        log.Occurrences.Enqueue(timer.ScheduleStatus!.LastUpdated);
    }
}
