using System.Globalization;
using System.Text;
using Nms.Plugins.Sdk;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Nms.Plugins.Ssh;

public sealed class SshHandler : IPluginHandler
{
    private const string DiscoveryScript = "uname -n; echo @@os; cat /etc/os-release 2>/dev/null; echo @@uname; uname -srm";

    public async Task<PluginResult> DiscoverAsync(PluginTarget target, TimeSpan attemptTimeout, CancellationToken cancellationToken)
    {
        var candidates = (target.Credentials ?? []).Where(c => c.Protocol == Protocols.Ssh).ToList();
        if (candidates.Count == 0)
        {
            return PluginResult.Fail(target.Id, "no SSH credential to try");
        }

        var failures = new List<string>();
        foreach (var credential in candidates)
        {
            try
            {
                return await DiscoverWithAsync(target, credential, attemptTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTargetFailure(ex, cancellationToken))
            {
                failures.Add($"credential {credential.Id}: {Describe(ex, attemptTimeout)}");
            }
        }

        return PluginResult.Fail(target.Id, PluginHost.OneLine(string.Join("; ", failures)));
    }

    private static async Task<PluginResult> DiscoverWithAsync(
        PluginTarget target, PluginCredential credential, TimeSpan attemptTimeout, CancellationToken cancellationToken)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(attemptTimeout);
        var hostKey = new HostKeyCheck(expected: null);
        using var client = await ConnectAsync(target, credential, hostKey, attemptTimeout, attempt.Token).ConfigureAwait(false);
        var output = await RunAsync(client, DiscoveryScript, attempt.Token).ConfigureAwait(false);
        var sections = LinuxProbe.Sections(output, firstSection: "hostname");
        var hostname = sections.GetValueOrDefault("hostname")?.Trim();
        return new PluginResult(
            target.Id,
            true,
            Hostname: string.IsNullOrEmpty(hostname) ? null : hostname,
            Description: LinuxProbe.Describe(sections.GetValueOrDefault("os"), sections.GetValueOrDefault("uname")),
            CredentialId: credential.Id,
            HostKey: hostKey.Seen);
    }

    public async Task<PluginResult> PollAsync(PluginTarget target, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (target.Credential is not { Protocol: Protocols.Ssh } credential)
        {
            return PluginResult.Fail(target.Id, "poll needs an SSH credential");
        }

        if (string.IsNullOrWhiteSpace(target.HostKey))
        {
            return PluginResult.Fail(target.Id, "no recorded host key for this device: run discovery first");
        }

        var hostKey = new HostKeyCheck(target.HostKey);
        try
        {
            using var client = await ConnectAsync(target, credential, hostKey, timeout, cancellationToken).ConfigureAwait(false);
            // Two /proc/stat samples a fraction of the budget apart give CPU utilisation over that interval.
            var sampleSeconds = Math.Clamp(timeout.TotalSeconds / 5, 0.2, 1.0);
            var output = await RunAsync(client, LinuxProbe.PollScript(sampleSeconds), cancellationToken).ConfigureAwait(false);
            var metrics = LinuxProbe.ParseMetrics(output, DateTimeOffset.UtcNow);
            return metrics.Count == 0
                ? PluginResult.Fail(target.Id, "the host answered but no Linux metric could be read (/proc missing?)")
                : new PluginResult(target.Id, true, Metrics: metrics);
        }
        catch (Exception ex) when (IsTargetFailure(ex, cancellationToken))
        {
            return PluginResult.Fail(target.Id, PluginHost.OneLine(hostKey.Mismatch ?? Describe(ex, timeout)));
        }
    }

    private static bool IsTargetFailure(Exception ex, CancellationToken batch) =>
        ex is SshException or System.Net.Sockets.SocketException or InvalidOperationException or ArgumentException or IOException or TimeoutException
        || (ex is OperationCanceledException && !batch.IsCancellationRequested);

    private static string Describe(Exception ex, TimeSpan timeout) => ex switch
    {
        OperationCanceledException or SshOperationTimeoutException or TimeoutException => $"timed out after {timeout.TotalMilliseconds:F0} ms",
        SshAuthenticationException => $"authentication failed: {ex.Message}",
        System.Net.Sockets.SocketException socket => $"cannot connect: {socket.SocketErrorCode}",
        _ => ex.Message,
    };

    private static async Task<SshClient> ConnectAsync(
        PluginTarget target, PluginCredential credential, HostKeyCheck hostKey, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(credential.User))
        {
            throw new ArgumentException("ssh credential without a user");
        }

        var methods = new List<AuthenticationMethod>();
        if (!string.IsNullOrEmpty(credential.PrivateKey))
        {
            using var keyStream = new MemoryStream(Encoding.UTF8.GetBytes(credential.PrivateKey));
            var key = string.IsNullOrEmpty(credential.PrivateKeyPassphrase)
                ? new PrivateKeyFile(keyStream)
                : new PrivateKeyFile(keyStream, credential.PrivateKeyPassphrase);
            methods.Add(new PrivateKeyAuthenticationMethod(credential.User, key));
        }

        if (!string.IsNullOrEmpty(credential.Password))
        {
            methods.Add(new PasswordAuthenticationMethod(credential.User, credential.Password));
        }

        if (methods.Count == 0)
        {
            throw new ArgumentException("ssh credential with neither password nor private_key");
        }

        var info = new ConnectionInfo(target.Ip, target.Port, credential.User, [.. methods]) { Timeout = timeout };
        var client = new SshClient(info);
        try
        {
            client.HostKeyReceived += hostKey.OnHostKeyReceived;
            await client.ConnectAsync(cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private static async Task<string> RunAsync(SshClient client, string script, CancellationToken cancellationToken)
    {
        using var command = client.CreateCommand(script);
        await command.ExecuteAsync(cancellationToken).ConfigureAwait(false);
        return command.Result;
    }

    /// <summary>Records the server's key and, at poll, refuses any key but the one recorded at discovery.</summary>
    private sealed class HostKeyCheck(string? expected)
    {
        public string? Seen { get; private set; }

        public string? Mismatch { get; private set; }

        public void OnHostKeyReceived(object? sender, HostKeyEventArgs e)
        {
            var fingerprint = $"SHA256:{e.FingerPrintSHA256}";
            Seen = string.Create(CultureInfo.InvariantCulture, $"{e.HostKeyName} {fingerprint}");
            // The fingerprint covers the key itself; the algorithm name may differ for one RSA key (ssh-rsa, rsa-sha2-512).
            if (expected is not null && !string.Equals(expected.Trim().Split(' ')[^1], fingerprint, StringComparison.Ordinal))
            {
                Mismatch = $"host key changed: expected {expected.Trim()}, got {Seen}; refusing to connect";
                e.CanTrust = false;
            }
        }
    }
}
