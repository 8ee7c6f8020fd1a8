using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Nms.Core.Data;
using Nms.Core.Diagnostics;
using Nms.Core.Queues;
using Npgsql;

namespace Nms.Core.Resilience;

/// <summary>One dependency the circuit holds open, for <c>GET /api/health</c>.</summary>
public sealed record OpenCircuit(string Dependency, DateTimeOffset Since);

/// <summary>
/// The consumers' circuit: a dependency is open from the moment an error points at it and a probe confirms it is
/// down, until a probe (every <see cref="ResilienceOptions.ProbeIntervalMilliseconds"/>) answers again. While any
/// is open, consumers hold their messages (<see cref="ConsumerGate"/>) and the local host takes no new ones, so an
/// outage of our own dependencies costs no delivery attempts.
/// </summary>
public sealed partial class DependencyCircuit(
    NmsDataSources dataSources,
    StorageQueues queues,
    ResilienceOptions options,
    NmsInstruments instruments,
    TimeProvider time,
    ILogger<DependencyCircuit> logger)
{
    private readonly ConcurrentDictionary<Dependency, DateTimeOffset> open = new();
    private readonly object gate = new();
    private TaskCompletionSource closed = Closed();

    public bool IsOpen => !open.IsEmpty;

    public IReadOnlyList<OpenCircuit> OpenCircuits =>
        [.. open.OrderBy(o => o.Key).Select(o => new OpenCircuit(o.Key.Name(), o.Value))];

    /// <summary>
    /// True when <paramref name="error"/> came from a dependency that is down (now open); false for anything a retry
    /// of the message may fix or never will: those stay ordinary message failures.
    /// </summary>
    public async Task<bool> ConfirmOutageAsync(Exception error, CancellationToken cancellationToken)
    {
        var down = false;
        foreach (var dependency in OutageClassifier.Suspects(error))
        {
            if (open.ContainsKey(dependency) || !await ProbeAsync(dependency, cancellationToken))
            {
                Open(dependency, error);
                down = true;
            }
        }

        return down;
    }

    /// <summary>Completes when no dependency is open; throws <see cref="DependencyUnavailableException"/> at <paramref name="deadline"/>.</summary>
    public async Task WaitClosedAsync(DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        Task waiting;
        lock (gate)
        {
            waiting = closed.Task;
        }

        var left = deadline - time.GetUtcNow();
        if (waiting.IsCompleted)
        {
            return;
        }

        if (deadline == DateTimeOffset.MaxValue)
        {
            await waiting.WaitAsync(cancellationToken);
            return;
        }

        if (left <= TimeSpan.Zero)
        {
            throw new DependencyUnavailableException(OpenCircuits);
        }

        try
        {
            await waiting.WaitAsync(left, time, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new DependencyUnavailableException(OpenCircuits);
        }
    }

    private void Open(Dependency dependency, Exception error)
    {
        lock (gate)
        {
            if (!open.TryAdd(dependency, time.GetUtcNow()))
            {
                return;
            }

            if (closed.Task.IsCompleted)
            {
                closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        instruments.CircuitsOpened.Add(1, new KeyValuePair<string, object?>("dependency", dependency.Name()));
        LogOpened(dependency.Name(), error.GetType().Name, error.Message);
        _ = Task.Run(() => ProbeUntilUpAsync(dependency));
    }

    private async Task ProbeUntilUpAsync(Dependency dependency)
    {
        var interval = TimeSpan.FromMilliseconds(Math.Max(50, options.ProbeIntervalMilliseconds));
        while (true)
        {
            await Task.Delay(interval, time);
            if (await ProbeAsync(dependency, CancellationToken.None))
            {
                break;
            }
        }

        lock (gate)
        {
            open.TryRemove(dependency, out var since);
            LogClosed(dependency.Name(), (time.GetUtcNow() - since).TotalSeconds);
            if (open.IsEmpty)
            {
                closed.TrySetResult();
            }
        }
    }

    private async Task<bool> ProbeAsync(Dependency dependency, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMilliseconds(Math.Max(100, options.ProbeTimeoutMilliseconds)));
        try
        {
            switch (dependency)
            {
                case Dependency.PostgresApi:
                    await PingAsync(dataSources.Api, timeout.Token);
                    break;
                case Dependency.PostgresMetrics:
                    await PingAsync(dataSources.Metrics, timeout.Token);
                    break;
                default:
                    await foreach (var _ in queues.Service.GetQueuesAsync(cancellationToken: timeout.Token).AsPages(pageSizeHint: 1))
                    {
                        break;
                    }

                    break;
            }

            return true;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private static async Task PingAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT 1");
        await command.ExecuteScalarAsync(cancellationToken);
    }

    private static TaskCompletionSource Closed()
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        source.SetResult();
        return source;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dependency {Dependency} is down ({ErrorType}: {Error}); consumers hold their messages until it answers")]
    private partial void LogOpened(string dependency, string errorType, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dependency {Dependency} answers again after {DownSeconds:F1} s; consumers resume")]
    private partial void LogClosed(string dependency, double downSeconds);
}
