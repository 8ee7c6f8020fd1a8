using System.Net.Http;
using System.Net.Sockets;
using Azure;
using Npgsql;

namespace Nms.Core.Resilience;

/// <summary>
/// Which dependency an exception may say is down: PostgreSQL for Npgsql's transient errors (refused, reset, timed
/// out, shutting down, too many connections), the queue service for Storage requests that got no answer or a 5xx.
/// Only a suspicion: <see cref="DependencyCircuit"/> probes before it calls it an outage.
/// </summary>
public static class OutageClassifier
{
    public static IReadOnlyList<Dependency> Suspects(Exception exception)
    {
        var suspects = new HashSet<Dependency>();
        foreach (var error in Chain(exception))
        {
            switch (error)
            {
                case NpgsqlException npgsql when npgsql.IsTransient || npgsql is PostgresException { SqlState: var state } && IsServerGoingAway(state):
                    suspects.Add(Dependency.PostgresApi);
                    suspects.Add(Dependency.PostgresMetrics);
                    break;
                case RequestFailedException storage when storage.Status == 0 || storage.Status >= 500:
                    suspects.Add(Dependency.Queues);
                    break;
                case HttpRequestException:
                    suspects.Add(Dependency.Queues);
                    break;
                case SocketException when !suspects.Contains(Dependency.PostgresApi):
                    suspects.Add(Dependency.Queues);
                    break;
            }
        }

        return [.. suspects];
    }

    /// <summary>Connection exceptions (class 08), operator intervention (57P0x), insufficient resources (53).</summary>
    private static bool IsServerGoingAway(string state) =>
        state.StartsWith("08", StringComparison.Ordinal) || state.StartsWith("57P0", StringComparison.Ordinal) || state.StartsWith("53", StringComparison.Ordinal);

    private static IEnumerable<Exception> Chain(Exception exception)
    {
        var pending = new Stack<Exception>([exception]);
        var seen = 0;
        while (pending.Count > 0 && seen++ < 32)
        {
            var current = pending.Pop();
            yield return current;
            if (current is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    pending.Push(inner);
                }
            }
            else if (current.InnerException is { } inner)
            {
                pending.Push(inner);
            }
        }
    }
}
