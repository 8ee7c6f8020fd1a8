using System.Net;
using System.Net.Sockets;
using Nms.Testing;
using Xunit;

namespace Nms.Plugins.Tests;

public sealed class SnmpAgentFixture : IAsyncLifetime
{
    public const string Community = "nms-test-community";
    public const string SysName = "nms-plugin-test-agent";
    public static readonly SnmpV3User Sha = SnmpV3User.ShaAes("nmssha", "sha-auth-pass-1", "sha-priv-pass-1");
    public static readonly SnmpV3User Sha256 = SnmpV3User.Sha256Aes("nmssha256", "sha256-auth-pass-1", "sha256-priv-pass-1");
    public static readonly SnmpV3User ShaAuthOnly = new("nmsauthonly", "SHA", "auth-only-pass-1", null, null);

    public SnmpdProcess Agent { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _ = Plugins.Directory;
        Agent = await SnmpdProcess.StartAsync(new SnmpdOptions
        {
            Community = Community,
            SysName = SysName,
            Users = [Sha, Sha256, ShaAuthOnly],
        });
    }

    public Task DisposeAsync()
    {
        Agent?.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class SshdFixture : IAsyncLifetime
{
    public SshdProcess Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _ = Plugins.Directory;
        Server = await SshdProcess.StartAsync(new SshdOptions());
    }

    public Task DisposeAsync()
    {
        Server?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>UDP sockets on loopback that swallow every request: a device that is up but never answers.</summary>
public sealed class SilentUdpPorts : IDisposable
{
    private readonly List<Socket> _sockets = [];

    public SilentUdpPorts(int count)
    {
        for (var i = 0; i < count; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _sockets.Add(socket);
        }
    }

    public IReadOnlyList<int> Ports => _sockets.Select(s => ((IPEndPoint)s.LocalEndPoint!).Port).ToList();

    public void Dispose()
    {
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }
    }
}
