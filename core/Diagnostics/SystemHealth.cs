using System.Diagnostics;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Queues;
using Nms.Core.Resilience;
using Npgsql;

namespace Nms.Core.Diagnostics;

/// <summary>What <c>GET /api/health</c> reports: each dependency, up or down, and how long it took.</summary>
public sealed class SystemHealth(NmsDataSources dataSources, StorageQueues queues, QueueNames queueNames, QueueMonitor monitor, DependencyCircuit circuit)
{
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(3);

    public async Task<HealthReport> CheckAsync(CancellationToken cancellationToken)
    {
        var checks = await Task.WhenAll(
            CheckAsync("postgres_api", ct => PingAsync(dataSources.Api, ct), cancellationToken),
            CheckAsync("postgres_metrics", ct => PingAsync(dataSources.Metrics, ct), cancellationToken),
            CheckAsync("queues", QueuesAsync, cancellationToken));
        // Poison (from the sampler's last reading, so this stays cheap) is reported for an alert; it does
        // not make the app unhealthy, since a restart would not help.
        return new HealthReport(checks.All(c => c.Healthy) ? "healthy" : "unhealthy", checks, monitor.Latest?.PoisonMessages)
        {
            HeldFor = circuit.OpenCircuits,
        };
    }

    private static async Task<HealthCheck> CheckAsync(string name, Func<CancellationToken, Task> probe, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CheckTimeout);
        try
        {
            await probe(timeout.Token);
            return new HealthCheck(name, true, null, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            var error = ex is OperationCanceledException ? "timed out" : ex.GetType().Name;
            return new HealthCheck(name, false, error, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    private static async Task PingAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT 1");
        await command.ExecuteScalarAsync(cancellationToken);
    }

    private async Task QueuesAsync(CancellationToken cancellationToken)
    {
        foreach (var name in queueNames.All)
        {
            var queue = await queues.GetQueueAsync(name, cancellationToken);
            await queue.GetPropertiesAsync(cancellationToken);
        }
    }
}

/// <summary><see cref="PoisonMessages"/>: messages in all poison queues at the last sample; null before the first.</summary>
public sealed record HealthReport(string Status, IReadOnlyList<HealthCheck> Checks, long? PoisonMessages = null)
{
    /// <summary>Dependencies the consumers' circuit holds open: while any is listed, queue consumers hold their messages.</summary>
    public IReadOnlyList<OpenCircuit> HeldFor { get; init; } = [];

    [System.Text.Json.Serialization.JsonIgnore]
    public bool Healthy => Status == "healthy";
}

public sealed record HealthCheck(string Name, bool Healthy, string? Error, double DurationMs);
