using Nms.Testing;

namespace Nms.Tests.Health;

/// <summary>
/// A real net-snmp agent on one loopback address and UDP port, with community <c>public</c>, that a
/// test can stop and start again on the same address and port: "the agent behind a device goes away
/// and comes back". The health tests' view of the shared <see cref="SnmpdProcess"/>.
/// </summary>
public sealed class SnmpAgent : IAsyncDisposable
{
    public const string Community = "public";

    private readonly SnmpdOptions options;
    private SnmpdProcess? process;

    private SnmpAgent(string ip, int port, string sysName)
    {
        Ip = ip;
        Port = port;
        SysName = sysName;
        options = new SnmpdOptions
        {
            Addresses = [ip],
            Port = port,
            Community = Community,
            SysName = sysName,
            ExcludedModules = ["smux", "mteTrigger", "mteTriggerConf"],
        };
    }

    public string Ip { get; }
    public int Port { get; }
    public string SysName { get; }
    public bool Running => process is { HasExited: false };

    public static async Task<SnmpAgent> StartAsync(string ip, string sysName)
    {
        var agent = new SnmpAgent(ip, FreePort.Udp(), sysName);
        await agent.StartAsync();
        return agent;
    }

    /// <summary>Starts snmpd on the agent's address and port and waits until it answers a GET for sysName.</summary>
    public async Task StartAsync()
    {
        if (Running)
        {
            return;
        }

        process?.Dispose();
        process = await SnmpdProcess.StartAsync(options);
    }

    /// <summary>Kills the agent: the address still answers ping, SNMP requests go unanswered.</summary>
    public Task StopAsync()
    {
        process?.Dispose();
        process = null;
        return Task.CompletedTask;
    }

    /// <summary>An SNMPv2c GET of sysName.0: true when a response comes back.</summary>
    public Task<bool> AnswersAsync() => SnmpdProcess.AnswersAsync(Ip, Port, Community);

    public async ValueTask DisposeAsync() => await StopAsync();
}
