using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Nms.Tests.Health;

/// <summary>
/// A real net-snmp agent (snmpd in the foreground) on one loopback address and UDP port, with
/// community <c>public</c>, that a test can stop and start again on the same address: "the agent
/// behind a device goes away and comes back". The health tests' own small fixture until a shared
/// one exists in tests/Nms.Testing.
/// </summary>
public sealed class SnmpAgent : IAsyncDisposable
{
    public const string Community = "public";

    private readonly string directory;
    private Process? process;

    private SnmpAgent(string ip, int port, string sysName)
    {
        Ip = ip;
        Port = port;
        SysName = sysName;
        directory = Directory.CreateTempSubdirectory("nms-snmpd-").FullName;
        File.WriteAllText(Path.Combine(directory, "snmpd.conf"), $"rocommunity {Community} 127.0.0.0/8\nsysName {sysName}\n");
    }

    public string Ip { get; }
    public int Port { get; }
    public string SysName { get; }
    public bool Running => process is { HasExited: false };

    public static async Task<SnmpAgent> StartAsync(string ip, string sysName)
    {
        var agent = new SnmpAgent(ip, FreeUdpPort(ip), sysName);
        await agent.StartAsync();
        return agent;
    }

    public static string SnmpdPath => File.Exists("/usr/sbin/snmpd") ? "/usr/sbin/snmpd" : "snmpd";

    /// <summary>Starts snmpd and waits until it answers a GET for sysName.</summary>
    public async Task StartAsync()
    {
        if (Running)
        {
            return;
        }

        var info = new ProcessStartInfo(SnmpdPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-f", "-Lo", "-C", "-c", Path.Combine(directory, "snmpd.conf"), "-I", "-smux,mteTrigger,mteTriggerConf", $"udp:{Ip}:{Port}" })
        {
            info.ArgumentList.Add(argument);
        }

        process = Process.Start(info) ?? throw new InvalidOperationException("snmpd did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"snmpd exited with code {process.ExitCode} on {Ip}:{Port}");
            }

            if (await AnswersAsync())
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"snmpd on {Ip}:{Port} did not answer within 15 s");
    }

    /// <summary>Kills the agent: the address still answers ping, SNMP requests go unanswered.</summary>
    public async Task StopAsync()
    {
        if (process is null)
        {
            return;
        }

        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
        process = null;
    }

    /// <summary>An SNMPv2c GET of sysName.0, built by hand: true when any response comes back.</summary>
    public async Task<bool> AnswersAsync()
    {
        using var udp = new UdpClient(AddressFamily.InterNetwork);
        byte[] oid = [0x06, 0x08, 0x2B, 0x06, 0x01, 0x02, 0x01, 0x01, 0x05, 0x00];
        byte[] varbind = [0x30, (byte)(oid.Length + 2), .. oid, 0x05, 0x00];
        byte[] varbinds = [0x30, (byte)varbind.Length, .. varbind];
        byte[] pdu = [0xA0, (byte)(9 + varbinds.Length), 0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, .. varbinds];
        byte[] community = [0x04, (byte)Community.Length, .. System.Text.Encoding.ASCII.GetBytes(Community)];
        byte[] body = [0x02, 0x01, 0x01, .. community, .. pdu];
        byte[] message = [0x30, (byte)body.Length, .. body];
        await udp.SendAsync(message, new IPEndPoint(IPAddress.Parse(Ip), Port));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        try
        {
            var reply = await udp.ReceiveAsync(timeout.Token);
            return reply.Buffer.Length > 0;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Directory.Delete(directory, recursive: true);
    }

    private static int FreeUdpPort(string ip)
    {
        using var socket = new UdpClient(new IPEndPoint(IPAddress.Parse(ip), 0));
        return ((IPEndPoint)socket.Client.LocalEndPoint!).Port;
    }
}
