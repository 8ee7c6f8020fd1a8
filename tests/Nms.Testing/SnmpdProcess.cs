using System.Globalization;
using System.Net;
using System.Text;
using Nms.Plugins.Snmp.Codec;

namespace Nms.Testing;

/// <summary>An SNMPv3 user for the test agent; the protocols are net-snmp's createUser names.</summary>
public sealed record SnmpV3User(string Name, string AuthProtocol, string AuthPassword, string? PrivProtocol, string? PrivPassword)
{
    public static SnmpV3User ShaAes(string name, string authPassword, string privPassword) => new(name, "SHA", authPassword, "AES", privPassword);

    public static SnmpV3User Sha256Aes(string name, string authPassword, string privPassword) => new(name, "SHA-256", authPassword, "AES", privPassword);

    public override string ToString() => $"SnmpV3User {{ {Name}, {AuthProtocol}, {PrivProtocol} }}";
}

public sealed record SnmpdOptions
{
    /// <summary>Loopback addresses to listen on; empty means every address (0.0.0.0), so every 127.x.y.z answers.</summary>
    public IReadOnlyList<string> Addresses { get; init; } = ["127.0.0.1"];

    public int? Port { get; init; }

    public string Community { get; init; } = "public";

    public string SysName { get; init; } = "nms-test-agent";

    public IReadOnlyList<SnmpV3User> Users { get; init; } = [];

    /// <summary>sysDescr.0; null keeps net-snmp's own (the uname line).</summary>
    public string? SysDescr { get; init; }

    /// <summary>MIB modules not to load (snmpd <c>-I -…</c>); smux is never needed, some tests drop more to start faster.</summary>
    public IReadOnlyList<string> ExcludedModules { get; init; } = ["smux"];

    /// <summary>More snmpd.conf lines, e.g. <c>extend</c> commands for objects beyond the standard MIBs.</summary>
    public IReadOnlyList<string> ExtraConfig { get; init; } = [];
}

/// <summary>A real net-snmp agent in the foreground, with its own config and persistent directory.</summary>
public sealed class SnmpdProcess : DaemonProcess
{
    private SnmpdProcess(string directory, SnmpdOptions options, int port, IEnumerable<string> arguments)
        : base("/usr/sbin/snmpd", arguments, new Dictionary<string, string> { ["MIBS"] = "" }, directory)
    {
        Options = options;
        Port = port;
    }

    public SnmpdOptions Options { get; }

    public int Port { get; }

    /// <summary>The address a client should use to reach the agent.</summary>
    public string Address => Options.Addresses.Count > 0 ? Options.Addresses[0] : "127.0.0.1";

    public static async Task<SnmpdProcess> StartAsync(SnmpdOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        // Loopback, or IPv6 unique-local addresses a test has added to lo itself.
        if (options.Addresses.Any(a => !IPAddress.TryParse(a, out var ip) || !(IPAddress.IsLoopback(ip) || ip.IsIPv6UniqueLocal)))
        {
            throw new ArgumentException("snmpd test agents listen on loopback (or unique-local IPv6 on lo) addresses only", nameof(options));
        }

        var port = options.Port ?? FreePort.Udp();
        var directory = Directory.CreateTempSubdirectory("nms-snmpd-").FullName;
        var persistent = Path.Combine(directory, "persist");
        Directory.CreateDirectory(persistent);
        var config = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"[snmp] persistentDir {persistent}")
            .AppendLine(CultureInfo.InvariantCulture, $"sysName {options.SysName}")
            .AppendLine("sysLocation nms test")
            .AppendLine(options.SysDescr is null ? "" : $"sysDescr {options.SysDescr}")
            .AppendLine(CultureInfo.InvariantCulture, $"rocommunity {options.Community} 127.0.0.0/8")
            .AppendLine(CultureInfo.InvariantCulture, $"rocommunity6 {options.Community} ::1/128")
            .AppendLine(CultureInfo.InvariantCulture, $"rocommunity6 {options.Community} fc00::/7");
        foreach (var user in options.Users)
        {
            var priv = user.PrivProtocol is null ? "" : $" {user.PrivProtocol} \"{user.PrivPassword}\"";
            config.AppendLine(CultureInfo.InvariantCulture, $"createUser {user.Name} {user.AuthProtocol} \"{user.AuthPassword}\"{priv}");
            config.AppendLine(CultureInfo.InvariantCulture, $"rouser {user.Name} {(user.PrivProtocol is null ? "auth" : "priv")}");
        }

        foreach (var line in options.ExtraConfig)
        {
            config.AppendLine(line);
        }

        var configPath = Path.Combine(directory, "snmpd.conf");
        await File.WriteAllTextAsync(configPath, config.ToString(), cancellationToken).ConfigureAwait(false);
        var listen = options.Addresses.Count == 0
            ? $"udp:0.0.0.0:{port}"
            : string.Join(',', options.Addresses.Select(a => IPAddress.Parse(a).AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"udp6:[{a}]:{port}" : $"udp:{a}:{port}"));
        string[] arguments = ["-f", "-Lo", "-C", "-m", "", "-I", "-" + string.Join(',', options.ExcludedModules), "-p", Path.Combine(directory, "snmpd.pid"), "-c", configPath, listen];

        var agent = new SnmpdProcess(directory, options, port, arguments);
        try
        {
            await agent.WaitUntilReadyAsync(agent.AnswersAsync, TimeSpan.FromSeconds(20), cancellationToken).ConfigureAwait(false);
            return agent;
        }
        catch
        {
            agent.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Stops this agent and starts a fresh one on the same addresses and port: "the agent behind a
    /// device goes away and comes back". This instance is disposed; use the one returned.
    /// </summary>
    public Task<SnmpdProcess> RestartAsync(CancellationToken cancellationToken = default)
    {
        Dispose();
        return StartAsync(Options with { Port = Port }, cancellationToken);
    }

    /// <summary>True when an SNMPv2c GET of sysName.0 to the address and port gets an answer within 300 ms.</summary>
    public static async Task<bool> AnswersAsync(string address, int port, string community, CancellationToken cancellationToken = default)
    {
        using var session = new SnmpSession(
            new IPEndPoint(IPAddress.Parse(address), port),
            new CommunityCredentials(community),
            new SnmpSessionOptions(TimeSpan.FromMilliseconds(300), Retries: 0));
        try
        {
            var answer = await session.GetAsync([ObjectIdentifier.Parse("1.3.6.1.2.1.1.5.0")], cancellationToken).ConfigureAwait(false);
            return answer.Count == 1;
        }
        catch (SnmpTimeoutException)
        {
            return false;
        }
    }

    private Task<bool> AnswersAsync(CancellationToken cancellationToken) => AnswersAsync(Address, Port, Options.Community, cancellationToken);
}
