using System.Net;
using System.Net.Sockets;
using Nms.Core.Configuration;

namespace Nms.Core.Reachability;

/// <summary>TCP-connect reachability: a device is reachable when a connection to its port completes in time.</summary>
public sealed class TcpReachability(ReachabilityOptions options)
{
    private const int MaxConcurrentConnects = 256;

    /// <summary>The (ip, port) pairs that accepted a connection within the timeout, after the configured retries.</summary>
    public async Task<IReadOnlySet<(string Ip, int Port)>> OpenAsync(IReadOnlyCollection<(string Ip, int Port)> endpoints, CancellationToken cancellationToken)
    {
        var open = new HashSet<(string, int)>();
        var distinct = endpoints.Distinct().ToList();
        await Parallel.ForEachAsync(
            distinct,
            new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentConnects, CancellationToken = cancellationToken },
            async (endpoint, ct) =>
            {
                if (await ConnectsAsync(endpoint.Ip, endpoint.Port, ct))
                {
                    lock (open)
                    {
                        open.Add(endpoint);
                    }
                }
            });
        return open;
    }

    private async Task<bool> ConnectsAsync(string ip, int port, CancellationToken cancellationToken)
    {
        if (!IPAddress.TryParse(ip, out var address))
        {
            return false;
        }

        for (var attempt = 0; attempt <= Math.Max(0, options.Retries); attempt++)
        {
            using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Math.Max(1, options.TimeoutMilliseconds));
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), timeout.Token);
                return true;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Timed out: try again.
            }
            catch (SocketException)
            {
                // Refused or unreachable: try again.
            }
        }

        return false;
    }
}
