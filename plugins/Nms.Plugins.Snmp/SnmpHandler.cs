using System.Globalization;
using System.Net;
using Nms.Plugins.Sdk;
using Nms.Plugins.Snmp.Codec;

namespace Nms.Plugins.Snmp;

public sealed class SnmpHandler : IPluginHandler
{
    /// <summary>A profile that names no budget gets this many requests per device poll.</summary>
    private const int DefaultProfileRequests = 100;

    private static readonly ObjectIdentifier[] DiscoveryOids = [Oids.SysName, Oids.SysDescr, Oids.SysObjectId, Oids.SysUpTime];

    public async Task<PluginResult> DiscoverAsync(PluginTarget target, TimeSpan attemptTimeout, CancellationToken cancellationToken)
    {
        var endpoint = ParseEndpoint(target);
        var candidates = (target.Credentials ?? []).Where(IsSnmp).ToList();
        if (candidates.Count == 0)
        {
            return PluginResult.Fail(target.Id, "no SNMP credential to try");
        }

        var failures = new List<string>();
        foreach (var credential in candidates)
        {
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attempt.CancelAfter(attemptTimeout);
            try
            {
                using var session = new SnmpSession(endpoint, ToSnmpCredentials(credential), Options(attemptTimeout));
                var values = await session.GetAsync(DiscoveryOids, attempt.Token).ConfigureAwait(false);
                var now = DateTimeOffset.UtcNow;
                var uptime = values[3].Value.AsNumber();
                return new PluginResult(
                    target.Id,
                    true,
                    Hostname: Text(values[0].Value),
                    Description: Text(values[1].Value),
                    ObjectId: values[2].Value.Oid?.ToString(),
                    CredentialId: credential.Id,
                    Metrics: uptime is { } ticks ? [new PluginMetric("sys_uptime_seconds", ticks / 100, Ts: now)] : null);
            }
            catch (Exception ex) when (ex is SnmpException or ArgumentException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                failures.Add($"credential {credential.Id}: {Describe(ex, attemptTimeout)}");
            }
        }

        return PluginResult.Fail(target.Id, PluginHost.OneLine(string.Join("; ", failures)));
    }

    public async Task<PluginResult> PollAsync(PluginTarget target, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var endpoint = ParseEndpoint(target);
        if (target.Credential is not { } credential || !IsSnmp(credential))
        {
            return PluginResult.Fail(target.Id, "poll needs an SNMP credential");
        }

        try
        {
            if (target.PollProfile is { } profile)
            {
                using var profiled = new SnmpSession(endpoint, ToSnmpCredentials(credential), Options(timeout) with { MaxRequests = profile.MaxRequests ?? DefaultProfileRequests });
                return new PluginResult(target.Id, true, Metrics: await ProfilePoll.PollAsync(profiled, profile, cancellationToken).ConfigureAwait(false));
            }

            using var session = new SnmpSession(endpoint, ToSnmpCredentials(credential), Options(timeout));
            var metrics = new List<PluginMetric>(96);
            // SNMPv1 has no Counter64: walk the 32-bit counters at once; otherwise only where an interface lacks the 64-bit ones.
            var columns = session.IsV1 ? Oids.PollColumnsV1 : Oids.PollColumns;
            var (scalars, rows) = await session.GetAndWalkAsync(Oids.PollScalars, columns, cancellationToken).ConfigureAwait(false);
            var ts = DateTimeOffset.UtcNow;
            PollMetrics.AddScalars(metrics, scalars, ts);
            var walked = new WalkedColumns();
            walked.Add(columns, rows);
            if (!session.IsV1 && PollMetrics.NeedsCounter32(walked))
            {
                walked.Add(Oids.Counter32Columns, await session.WalkColumnsAsync(Oids.Counter32Columns, cancellationToken).ConfigureAwait(false));
            }

            PollMetrics.AddWalked(metrics, walked, ts);
            return new PluginResult(target.Id, true, Metrics: metrics);
        }
        catch (Exception ex) when (ex is SnmpException or ArgumentException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return PluginResult.Fail(target.Id, PluginHost.OneLine(Describe(ex, timeout)));
        }
        catch (OperationCanceledException ex)
        {
            return PluginResult.Fail(target.Id, Describe(ex, timeout));
        }
    }

    // Retransmit after at most a second, like net-snmp, and keep retrying while the target's budget lasts:
    // a datagram dropped by a busy agent then costs a second, not a third of the timeout.
    private static SnmpSessionOptions Options(TimeSpan timeout)
    {
        // 0.3, not a third: three tries then end before the budget does, leaving room for engine discovery and key
        // hashing, so the last try's outcome (e.g. the authNoPriv probe that names a wrong privacy key) is reported.
        var tryTimeout = TimeSpan.FromMilliseconds(Math.Clamp(timeout.TotalMilliseconds * 0.3, 50, 1_000));
        var retries = Math.Max(2, (int)(timeout / tryTimeout) - 1);
        return new SnmpSessionOptions(tryTimeout, Retries: retries, MaxRepetitions: 16);
    }

    private static string Describe(Exception ex, TimeSpan timeout) => ex switch
    {
        OperationCanceledException => $"no response within {timeout.TotalMilliseconds:F0} ms (unreachable agent, or wrong community / credentials)",
        _ => ex.Message,
    };

    private static string? Text(SnmpValue value) => value.IsException ? null : value.AsText();

    private static bool IsSnmp(PluginCredential credential) => credential.Protocol is Protocols.SnmpV1 or Protocols.SnmpV2c or Protocols.SnmpV3;

    private static IPEndPoint ParseEndpoint(PluginTarget target) =>
        IPAddress.TryParse(target.Ip, out var address)
            ? new IPEndPoint(address, target.Port)
            : throw new ArgumentException($"not an IP address: {target.Ip}");

    internal static SnmpCredentials ToSnmpCredentials(PluginCredential credential)
    {
        if (credential.Protocol is Protocols.SnmpV1 or Protocols.SnmpV2c)
        {
            return string.IsNullOrEmpty(credential.Community)
                ? throw new ArgumentException($"{credential.Protocol} credential without a community")
                : new CommunityCredentials(credential.Community, credential.Protocol == Protocols.SnmpV1 ? CommunityVersion.V1 : CommunityVersion.V2c);
        }

        if (string.IsNullOrEmpty(credential.User))
        {
            throw new ArgumentException("snmp_v3 credential without a user");
        }

        var auth = (credential.AuthProtocol ?? "none").ToLowerInvariant() switch
        {
            "none" or "" => AuthProtocol.None,
            "md5" => AuthProtocol.Md5,
            "sha1" or "sha" => AuthProtocol.Sha1,
            "sha224" => AuthProtocol.Sha224,
            "sha256" => AuthProtocol.Sha256,
            "sha384" => AuthProtocol.Sha384,
            "sha512" => AuthProtocol.Sha512,
            var other => throw new ArgumentException($"unsupported auth_protocol {other}"),
        };
        var priv = (credential.PrivProtocol ?? "none").ToLowerInvariant() switch
        {
            "none" or "" => PrivProtocol.None,
            "des" => PrivProtocol.Des,
            "aes128" or "aes" => PrivProtocol.Aes128,
            "aes192" => PrivProtocol.Aes192,
            "aes256" => PrivProtocol.Aes256,
            var other => throw new ArgumentException($"unsupported priv_protocol {other}"),
        };
        if (auth != AuthProtocol.None && string.IsNullOrEmpty(credential.AuthKey))
        {
            throw new ArgumentException("snmp_v3 credential with auth but no auth_key");
        }

        if (priv != PrivProtocol.None && (auth == AuthProtocol.None || string.IsNullOrEmpty(credential.PrivKey)))
        {
            throw new ArgumentException("snmp_v3 privacy needs authentication and a priv_key");
        }

        return new UsmCredentials(credential.User, auth, credential.AuthKey, priv, credential.PrivKey);
    }
}
