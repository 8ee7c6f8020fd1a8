using System.Net;
using System.Net.Sockets;
using Nms.Plugins.Snmp.Codec;

namespace Nms.Testing;

/// <summary>A UDP responder on loopback that answers each datagram with whatever datagrams its script returns.</summary>
public sealed class ScriptedAgent : IDisposable
{
    private readonly UdpClient _socket = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _received;

    /// <summary>An agent that sees the raw datagrams, e.g. for SNMPv3.</summary>
    public ScriptedAgent(Func<byte[], IEnumerable<byte[]>> script) => _loop = Task.Run(() => LoopAsync(script));

    /// <summary>An agent whose script sees decoded SNMPv2c requests.</summary>
    public static ScriptedAgent V2c(Func<CommunityMessage, IEnumerable<byte[]>> script) => new(bytes => script(CommunityMessage.Decode(bytes)));

    /// <summary>
    /// Waits until the agent has taken <paramref name="count"/> datagrams off its socket: a client can give up before
    /// a starved agent loop has read its last datagram, so count what arrived, not what was handled in time.
    /// </summary>
    public async Task<int> ReceivedAtLeastAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Volatile.Read(ref _received) < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        return Volatile.Read(ref _received);
    }

    public int Port => ((IPEndPoint)_socket.Client.LocalEndPoint!).Port;

    public SnmpSession Session(int retries = 1) =>
        new(new IPEndPoint(IPAddress.Loopback, Port), new CommunityCredentials("public"),
            new SnmpSessionOptions(TimeSpan.FromMilliseconds(300), retries));

    private async Task LoopAsync(Func<byte[], IEnumerable<byte[]>> script)
    {
        while (!_stop.IsCancellationRequested)
        {
            UdpReceiveResult received;
            try
            {
                received = await _socket.ReceiveAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Interlocked.Increment(ref _received);
            foreach (var reply in script(received.Buffer))
            {
                await _socket.SendAsync(reply, received.RemoteEndPoint, _stop.Token);
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _loop.Wait(1000);
        }
        catch (AggregateException)
        {
        }

        _socket.Dispose();
        _stop.Dispose();
    }
}
