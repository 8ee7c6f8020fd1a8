using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Nms.Testing;

public sealed record SshdOptions
{
    public int? Port { get; init; }

    /// <summary>Where sshd listens: loopback, or IPv6 addresses a test has added to lo (<see cref="LoopbackIpv6"/>).</summary>
    public IReadOnlyList<string> Addresses { get; init; } = ["127.0.0.1"];

    /// <summary>A local account the fixture creates if missing (tests run as root); its password is set to <see cref="Password"/>.</summary>
    public string User { get; init; } = "nmstest";

    // A loopback-only daemon and a throwaway account; parallel test runs must agree on it, so it is fixed.
    public string Password { get; init; } = "nms-Test-pass-7491";
}

/// <summary>A real OpenSSH server on 127.0.0.1 (or the given addresses) with its own host key, config and client key pair.</summary>
public sealed class SshdProcess : DaemonProcess
{
    private SshdProcess(string directory, SshdOptions options, int port, string config, string hostKey, string clientKey)
        : base("/usr/sbin/sshd", ["-D", "-e", "-f", config], null, directory)
    {
        Options = options;
        Port = port;
        HostKey = hostKey;
        ClientPrivateKey = clientKey;
    }

    public SshdOptions Options { get; }

    public int Port { get; }

    /// <summary>The address a client should use: the first one it listens on.</summary>
    public string Address => Options.Addresses[0];

    /// <summary>The server's key as the plugin reports it: "ssh-ed25519 SHA256:...".</summary>
    public string HostKey { get; }

    /// <summary>An OpenSSH private key (no passphrase) authorised for <see cref="SshdOptions.User"/>.</summary>
    public string ClientPrivateKey { get; }

    public static async Task<SshdProcess> StartAsync(SshdOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("the sshd fixture drives Debian's OpenSSH server");
        }

        EnsureUser(options.User, options.Password);
        Directory.CreateDirectory("/run/sshd");
        var port = options.Port ?? FreePort.Tcp();
        var directory = Directory.CreateTempSubdirectory("nms-sshd-").FullName;
        // sshd reads authorized_keys as the target user, so the directory must be traversable by it.
        File.SetUnixFileMode(directory, (UnixFileMode)Convert.ToInt32("755", 8));
        var hostKeyPath = Path.Combine(directory, "ssh_host_ed25519_key");
        RunTool("/usr/bin/ssh-keygen", null, "-q", "-t", "ed25519", "-N", "", "-C", "nms-test-host", "-f", hostKeyPath);
        var clientKeyPath = Path.Combine(directory, "client_ed25519");
        RunTool("/usr/bin/ssh-keygen", null, "-q", "-t", "ed25519", "-N", "", "-C", "nms-test-client", "-f", clientKeyPath);
        var authorized = Path.Combine(directory, "authorized_keys");
        File.Copy(clientKeyPath + ".pub", authorized);
        File.SetUnixFileMode(authorized, (UnixFileMode)Convert.ToInt32("644", 8));

        var fingerprint = RunTool("/usr/bin/ssh-keygen", null, "-l", "-E", "sha256", "-f", hostKeyPath + ".pub").Split(' ')[1];
        var config = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"Port {port}")
            .AppendJoin("", options.Addresses.Select(a => $"ListenAddress {a}{Environment.NewLine}"))
            .AppendLine(CultureInfo.InvariantCulture, $"HostKey {hostKeyPath}")
            .AppendLine(CultureInfo.InvariantCulture, $"PidFile {Path.Combine(directory, "sshd.pid")}")
            .AppendLine(CultureInfo.InvariantCulture, $"AuthorizedKeysFile {authorized}")
            .AppendLine("StrictModes no")
            .AppendLine("PasswordAuthentication yes")
            .AppendLine("KbdInteractiveAuthentication no")
            .AppendLine("PubkeyAuthentication yes")
            .AppendLine("UsePAM no")
            .AppendLine("PermitRootLogin no")
            .AppendLine(CultureInfo.InvariantCulture, $"AllowUsers {options.User}")
            .AppendLine("MaxStartups 100:30:200")
            .AppendLine("LogLevel VERBOSE")
            .ToString();
        var configPath = Path.Combine(directory, "sshd_config");
        await File.WriteAllTextAsync(configPath, config, cancellationToken).ConfigureAwait(false);

        var daemon = new SshdProcess(directory, options, port, configPath, $"ssh-ed25519 {fingerprint}", await File.ReadAllTextAsync(clientKeyPath, cancellationToken).ConfigureAwait(false));
        try
        {
            await daemon.WaitUntilReadyAsync(daemon.SendsBannerAsync, TimeSpan.FromSeconds(20), cancellationToken).ConfigureAwait(false);
            return daemon;
        }
        catch
        {
            daemon.Dispose();
            throw;
        }
    }

    private async Task<bool> SendsBannerAsync(CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(Address, Port, cancellationToken).ConfigureAwait(false);
        var buffer = new byte[64];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(2_000);
        var read = await client.GetStream().ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
        return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("SSH-2.0", StringComparison.Ordinal);
    }

    private static void EnsureUser(string user, string password)
    {
        var exists = File.ReadLines("/etc/passwd").Any(line => line.StartsWith(user + ":", StringComparison.Ordinal));
        if (!exists)
        {
            try
            {
                RunTool("/usr/sbin/useradd", null, "-m", "-s", "/bin/sh", user);
            }
            catch (InvalidOperationException) when (File.ReadLines("/etc/passwd").Any(line => line.StartsWith(user + ":", StringComparison.Ordinal)))
            {
                // A parallel test run created it first.
            }
        }

        RunTool("/usr/sbin/chpasswd", $"{user}:{password}\n");
    }
}
