using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Nms.Plugins.Snmp.Codec;

/// <summary>
/// One unconnected UDP socket per address family, shared by every session in the process, and one thread per socket
/// that receives and hands each datagram to the exchange waiting for it, found by agent address and request id (v1,
/// v2c) or msgID (v3). A request then costs one sendto and one recvfrom: no socket, connect, close or epoll
/// registration per target, no thread-pool hop per answer. Sessions continue on the receive thread, so a batch of
/// 128 concurrent polls is one loop. The same thread expires try timeouts (one scan every few milliseconds, not a
/// timer per request; poll waits at most 2 ms) and reads ICMP errors (port unreachable) from the socket's error queue.
/// </summary>
public sealed class SnmpTransport
{
    private const int PollMicroseconds = 2_000;
    private static readonly long ScanInterval = Stopwatch.Frequency / 500;
    private static int s_nextId = Random.Shared.Next(1, int.MaxValue / 2);

    private readonly Lazy<SharedSocket> _v4 = new(() => new SharedSocket(AddressFamily.InterNetwork));
    private readonly Lazy<SharedSocket> _v6 = new(() => new SharedSocket(AddressFamily.InterNetworkV6));

    public static SnmpTransport Shared { get; } = new();

    /// <summary>Request ids and msgIDs unique in the process, so two sessions to one agent never share a key.</summary>
    public static int NextId() => Interlocked.Increment(ref s_nextId) & int.MaxValue;

    internal Exchange<T> Open<T>(IPEndPoint agent, int id, Func<ReadOnlySpan<byte>, (T? Match, string? Problem)> matcher, CancellationToken cancellationToken)
    {
        var socket = agent.AddressFamily == AddressFamily.InterNetworkV6 ? _v6.Value : _v4.Value;
        var exchange = new Exchange<T>(socket, agent.Serialize(), id, matcher);
        socket.Add(exchange);
        exchange.WatchCancellation(cancellationToken);
        return exchange;
    }

    internal abstract class PendingExchange(SharedSocket socket, SocketAddress agent, int id)
    {
        private long _deadline = long.MaxValue;

        public SocketAddress Agent { get; } = agent;

        public int Id { get; } = id;

        public SharedSocket Socket { get; } = socket;

        /// <summary>The last undecodable answer, for the error if no good one comes.</summary>
        public string? Problem { get; protected set; }

        public long Deadline
        {
            get => Volatile.Read(ref _deadline);
            protected set => Volatile.Write(ref _deadline, value);
        }

        public abstract void OnDatagram(ReadOnlySpan<byte> datagram);

        public void OnProblem(string problem) => Problem = problem;

        public abstract void OnTimeout();

        public abstract void OnError(Exception error);
    }

    /// <summary>One request awaiting its answer across retransmissions; each try is armed, sent, then awaited.</summary>
    internal sealed class Exchange<T>(SharedSocket socket, SocketAddress agent, int id, Func<ReadOnlySpan<byte>, (T? Match, string? Problem)> matcher)
        : PendingExchange(socket, agent, id), IDisposable
    {
        private readonly Lock _gate = new();
        private TaskCompletionSource<T?>? _try;
        private CancellationTokenRegistration _cancellation;

        public void WatchCancellation(CancellationToken cancellationToken) =>
            _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((Exchange<T>)state!).Finish(t => t.TrySetCanceled(token)), this);

        /// <summary>Sends the packet and completes with the matched answer, or default when the try times out.</summary>
        public Task<T?> TryAsync(byte[] packet, TimeSpan timeout)
        {
            var attempt = new TaskCompletionSource<T?>();
            lock (_gate)
            {
                _try = attempt;
                Deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
            }

            Socket.Send(packet, Agent);
            return attempt.Task;
        }

        public override void OnDatagram(ReadOnlySpan<byte> datagram)
        {
            if (Volatile.Read(ref _try) is null)
            {
                return;
            }

            var (match, problem) = matcher(datagram);
            if (match is not null)
            {
                Finish(t => t.TrySetResult(match));
            }
            else if (problem is not null)
            {
                Problem = problem;
            }
        }

        public override void OnTimeout() => Finish(static t => t.TrySetResult(default));

        public override void OnError(Exception error) => Finish(t => t.TrySetException(error));

        // The waiting session continues inside the callback, outside the lock.
        private void Finish(Action<TaskCompletionSource<T?>> complete)
        {
            TaskCompletionSource<T?>? attempt;
            lock (_gate)
            {
                attempt = _try;
                _try = null;
                Deadline = long.MaxValue;
            }

            if (attempt is not null)
            {
                complete(attempt);
            }
        }

        public void Dispose()
        {
            _cancellation.Dispose();
            Socket.Remove(this);
        }
    }

    internal readonly record struct Key(SocketAddress Agent, int Id);

    internal sealed class SharedSocket
    {
        private const int MaxDatagram = 65_535;

        private readonly Socket _socket;
        private readonly AddressFamily _family;
        private readonly ConcurrentDictionary<Key, PendingExchange> _exchanges = new();
        private readonly AutoResetEvent _work = new(false);
        private readonly Lock _errorGate = new();
        private readonly byte[] _errorPayload = new byte[MaxDatagram];
        private readonly SocketAddress _errorDestination;
        private int _count;
        private long _nextScan;

        public SharedSocket(AddressFamily family)
        {
            _family = family;
            _errorDestination = new SocketAddress(family);
            _socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
            if (family == AddressFamily.InterNetworkV6)
            {
                _socket.DualMode = false;
            }

            _socket.Bind(new IPEndPoint(family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0));
            // Answers of 128 concurrent polls may queue while the thread decodes: ask for room (capped by rmem_max).
            _socket.ReceiveBufferSize = 4 * 1024 * 1024;
            UdpErrorQueue.Enable(_socket, family);
            new Thread(ReceiveLoop) { IsBackground = true, Name = family == AddressFamily.InterNetworkV6 ? "snmp udp6" : "snmp udp4" }.Start();
        }

        public void Add(PendingExchange exchange)
        {
            if (!_exchanges.TryAdd(new Key(exchange.Agent, exchange.Id), exchange))
            {
                throw new InvalidOperationException($"request id {exchange.Id} is already waiting for an answer");
            }

            if (Interlocked.Increment(ref _count) == 1)
            {
                _work.Set();
            }
        }

        public void Remove(PendingExchange exchange)
        {
            if (_exchanges.TryRemove(new KeyValuePair<Key, PendingExchange>(new Key(exchange.Agent, exchange.Id), exchange)))
            {
                Interlocked.Decrement(ref _count);
            }
        }

        public void Send(byte[] packet, SocketAddress agent)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    _socket.SendTo(packet, SocketFlags.None, agent);
                    return;
                }
                catch (SocketException ex) when (UdpErrorQueue.IsIcmpReport(ex.SocketErrorCode) && attempt < 16)
                {
                    // An ICMP error for some earlier datagram (any agent's) surfaced here: hand it to its exchange, send ours again.
                    ReadErrors();
                }
            }
        }

        private void ReceiveLoop()
        {
            var buffer = new byte[MaxDatagram];
            var from = new SocketAddress(_family);
            while (true)
            {
                if (Volatile.Read(ref _count) == 0)
                {
                    _work.WaitOne();
                    continue;
                }

                try
                {
                    // Wait at most a scan interval, so try timeouts fire on time while nothing arrives.
                    if (_socket.Poll(PollMicroseconds, SelectMode.SelectRead))
                    {
                        var received = _socket.ReceiveFrom(buffer, SocketFlags.None, from);
                        Dispatch(buffer.AsSpan(0, received), from);
                    }
                    else
                    {
                        // A queued ICMP error is POLLERR, not POLLIN: look while nothing else arrives.
                        ReadErrors();
                    }
                }
                catch (SocketException ex) when (UdpErrorQueue.IsIcmpReport(ex.SocketErrorCode))
                {
                    ReadErrors();
                }

                if (Stopwatch.GetTimestamp() >= _nextScan)
                {
                    ExpireTries();
                }
            }
        }

        private void Dispatch(ReadOnlySpan<byte> datagram, SocketAddress from)
        {
            if (SnmpPacket.TryPeekId(datagram, out var id, out var error))
            {
                // Answers nobody waits for (late duplicates of a retransmitted request) are dropped here.
                if (_exchanges.TryGetValue(new Key(from, id), out var exchange))
                {
                    exchange.OnDatagram(datagram);
                }

                return;
            }

            // Not even an SNMP header: note it on every exchange with that agent, for the error if nothing better comes.
            var problem = $"malformed response: {error}";
            foreach (var (key, exchange) in _exchanges)
            {
                if (key.Agent.Equals(from))
                {
                    exchange.OnProblem(problem);
                }
            }
        }

        private void ExpireTries()
        {
            var now = Stopwatch.GetTimestamp();
            _nextScan = now + ScanInterval;
            foreach (var (_, exchange) in _exchanges)
            {
                if (exchange.Deadline <= now)
                {
                    exchange.OnTimeout();
                }
            }
        }

        private void ReadErrors()
        {
            List<(PendingExchange Exchange, SnmpException Error)>? failed = null;
            lock (_errorGate)
            {
                var payload = _errorPayload;
                var destination = _errorDestination;
                while (UdpErrorQueue.TryRead(_socket, destination, payload, out var length, out var errno))
                {
                    var error = new SnmpException(UdpErrorQueue.Describe(errno));
                    if (SnmpPacket.TryPeekId(payload.AsSpan(0, length), out var id, out _) && _exchanges.TryGetValue(new Key(destination, id), out var exchange))
                    {
                        (failed ??= []).Add((exchange, error));
                        continue;
                    }

                    foreach (var (key, other) in _exchanges)
                    {
                        if (key.Agent.Equals(destination))
                        {
                            (failed ??= []).Add((other, error));
                        }
                    }
                }
            }

            foreach (var (exchange, error) in failed ?? [])
            {
                exchange.OnError(error);
            }
        }
    }
}
