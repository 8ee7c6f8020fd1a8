using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Nms.Plugins.Snmp.Codec;

/// <summary><c>MaxRequests</c>: how many requests (not counting retransmissions) the session may send in all.</summary>
public sealed record SnmpSessionOptions(TimeSpan TryTimeout, int Retries = 2, int MaxRepetitions = 10, int MaxWalkRows = 100_000, int MaxRequests = int.MaxValue);

/// <summary>One agent; requests are strictly sequential. Datagrams travel through a <see cref="SnmpTransport"/>.</summary>
public sealed class SnmpSession : IDisposable
{
    private const int MaxMessageSize = 65_507;

    private static readonly ObjectIdentifier UsmStats = ObjectIdentifier.Parse("1.3.6.1.6.3.15.1.1");
    private static readonly ObjectIdentifier UnsupportedSecLevels = UsmStats.Append(1, 0);
    private static readonly ObjectIdentifier NotInTimeWindows = UsmStats.Append(2, 0);
    private static readonly ObjectIdentifier UnknownUserNames = UsmStats.Append(3, 0);
    private static readonly ObjectIdentifier UnknownEngineIds = UsmStats.Append(4, 0);
    private static readonly ObjectIdentifier WrongDigests = UsmStats.Append(5, 0);
    private static readonly ObjectIdentifier DecryptionErrors = UsmStats.Append(6, 0);

    private readonly IPEndPoint _agent;
    private readonly SnmpTransport _transport;
    private readonly SnmpCredentials _credentials;
    private readonly SnmpSessionOptions _options;
    private long _salt = BinaryPrimitives.ReadInt64LittleEndian(RandomNumberGenerator.GetBytes(8));

    private byte[]? _engineId;
    private int _engineBoots;
    private int _engineTime;
    private long _engineTimeAt;
    private UsmKeys? _keys;
    private bool _privacyAnswered;
    private int _requests;

    /// <param name="transport">Where datagrams go and come from; by default the process's one shared socket per address family.</param>
    public SnmpSession(IPEndPoint endpoint, SnmpCredentials credentials, SnmpSessionOptions options, SnmpTransport? transport = null)
    {
        _agent = endpoint ?? throw new ArgumentNullException(nameof(endpoint));
        _credentials = credentials ?? throw new ArgumentNullException(nameof(credentials));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _transport = transport ?? SnmpTransport.Shared;
    }

    public byte[]? EngineId => _engineId;

    /// <summary>SNMPv1 has no GETBULK, no Counter64 and no noSuchObject: walks use GETNEXT, absent objects are noSuchName.</summary>
    public bool IsV1 => _credentials is CommunityCredentials { Version: CommunityVersion.V1 };

    /// <summary>
    /// GET. Over SNMPv1 an absent object fails the whole request with noSuchName naming only the first one, so the
    /// objects are read with one GETNEXT from each one's predecessor instead (x.0 from x, x.n from x.(n-1)): an
    /// object that comes back is there, anything else reads noSuchObject as in SNMPv2 (RFC 3584 4.4). Only where a
    /// child of the predecessor could hide the object is it asked again with GET, one by one.
    /// </summary>
    public async Task<IReadOnlyList<VarBind>> GetAsync(IReadOnlyList<ObjectIdentifier> oids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(oids);
        if (!IsV1)
        {
            return await RequestAsync(PduType.Get, 0, 0, oids, cancellationToken).ConfigureAwait(false);
        }

        var result = oids.Select(o => new VarBind(o, new SnmpValue(SnmpType.NoSuchObject))).ToArray();
        var predecessors = oids.Select(Predecessor).ToArray();
        // In OID order, so the object noSuchName names (the first that fails) is the one with the least predecessor.
        var asked = Enumerable.Range(0, oids.Count).Where(i => predecessors[i] is not null).OrderBy(i => predecessors[i]).ToList();
        var byGet = Enumerable.Range(0, oids.Count).Where(i => predecessors[i] is null).ToList();
        while (asked.Count > 0)
        {
            try
            {
                var answer = await GetNextAsync(asked.Select(i => predecessors[i]!).ToArray(), cancellationToken).ConfigureAwait(false);
                for (var k = 0; k < asked.Count; k++)
                {
                    var i = asked[k];
                    if (answer[k].Oid == oids[i])
                    {
                        result[i] = answer[k];
                    }
                    else if (MayHide(answer[k].Oid, oids[i], predecessors[i]!))
                    {
                        byGet.Add(i);
                    }
                }

                break;
            }
            catch (SnmpErrorStatusException ex) when (ex.Status == SnmpErrorStatusException.NoSuchName && ex.Index >= 1 && ex.Index <= asked.Count)
            {
                // Nothing follows that predecessor: nor anything at or after it.
                var end = predecessors[asked[ex.Index - 1]]!;
                asked.RemoveAll(i => predecessors[i]! >= end);
            }
        }

        foreach (var i in byGet)
        {
            try
            {
                result[i] = (await RequestAsync(PduType.Get, 0, 0, [oids[i]], cancellationToken).ConfigureAwait(false))[0];
            }
            catch (SnmpErrorStatusException ex) when (ex.Status == SnmpErrorStatusException.NoSuchName)
            {
            }
        }

        return result;
    }

    /// <summary>
    /// Whether a GETNEXT from <paramref name="predecessor"/> that returned <paramref name="answer"/> instead of
    /// <paramref name="oid"/> may have skipped it: only when the answer is a child of x.(n-1), which sorts before x.n.
    /// From x (for x.0) nothing sorts between them, so a miss there means the object is absent.
    /// </summary>
    private static bool MayHide(ObjectIdentifier answer, ObjectIdentifier oid, ObjectIdentifier predecessor) =>
        answer.StartsWith(predecessor) && answer != predecessor && !oid.StartsWith(predecessor);

    /// <summary>x for x.0, x.(n-1) for x.n; null where that would not be an OID.</summary>
    private static ObjectIdentifier? Predecessor(ObjectIdentifier oid)
    {
        var components = oid.Components.ToArray();
        if (components[^1] > 0)
        {
            components[^1]--;
            return new ObjectIdentifier(components);
        }

        return components.Length > 2 ? new ObjectIdentifier(components[..^1]) : null;
    }

    public Task<IReadOnlyList<VarBind>> GetNextAsync(IReadOnlyList<ObjectIdentifier> oids, CancellationToken cancellationToken) =>
        RequestAsync(PduType.GetNext, 0, 0, oids, cancellationToken);

    public Task<IReadOnlyList<VarBind>> GetBulkAsync(int nonRepeaters, int maxRepetitions, IReadOnlyList<ObjectIdentifier> oids, CancellationToken cancellationToken) =>
        RequestAsync(PduType.GetBulk, nonRepeaters, maxRepetitions, oids, cancellationToken);

    /// <summary>
    /// Walks several table columns at once with GETBULK, each column stopping where it leaves its subtree.
    /// </summary>
    public async Task<IReadOnlyList<IReadOnlyList<VarBind>>> WalkColumnsAsync(IReadOnlyList<ObjectIdentifier> columns, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var walk = new ColumnWalk(columns, _options.MaxWalkRows);
        await FinishWalkAsync(walk, cancellationToken).ConfigureAwait(false);
        return walk.Rows;
    }

    /// <summary>
    /// GET of the scalars and a walk of the columns, starting in one GETBULK: the scalars as its non-repeaters (a
    /// GETNEXT from each one's predecessor, as over SNMPv1 in <see cref="GetAsync"/>), the columns as its repeaters.
    /// One round trip fewer per poll; SNMPv1, which has no GETBULK, does the two one after the other.
    /// </summary>
    public async Task<(IReadOnlyList<VarBind> Scalars, IReadOnlyList<IReadOnlyList<VarBind>> Columns)> GetAndWalkAsync(
        IReadOnlyList<ObjectIdentifier> scalars, IReadOnlyList<ObjectIdentifier> columns, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scalars);
        ArgumentNullException.ThrowIfNull(columns);
        var predecessors = new ObjectIdentifier[scalars.Count];
        var combinable = !IsV1 && scalars.Count > 0 && columns.Count > 0;
        for (var i = 0; combinable && i < scalars.Count; i++)
        {
            var predecessor = Predecessor(scalars[i]);
            combinable = predecessor is not null;
            predecessors[i] = predecessor!;
        }

        if (!combinable)
        {
            return (await GetAsync(scalars, cancellationToken).ConfigureAwait(false), await WalkColumnsAsync(columns, cancellationToken).ConfigureAwait(false));
        }

        var walk = new ColumnWalk(columns, _options.MaxWalkRows);
        var from = new ObjectIdentifier[scalars.Count + columns.Count];
        predecessors.CopyTo(from, 0);
        walk.CopyFrom(from, scalars.Count);
        var response = await GetBulkAsync(scalars.Count, Repetitions(columns.Count), from, cancellationToken).ConfigureAwait(false);
        if (response.Count < scalars.Count)
        {
            throw new SnmpException($"agent answered {response.Count} variables for {scalars.Count} non-repeaters");
        }

        var values = new VarBind[scalars.Count];
        List<int>? hidden = null;
        for (var i = 0; i < scalars.Count; i++)
        {
            var answer = response[i];
            values[i] = answer.Oid == scalars[i] ? answer : new VarBind(scalars[i], new SnmpValue(SnmpType.NoSuchObject));
            if (answer.Oid != scalars[i] && !answer.Value.IsException && MayHide(answer.Oid, scalars[i], predecessors[i]))
            {
                (hidden ??= []).Add(i);
            }
        }

        walk.Accept(response, scalars.Count);
        foreach (var i in hidden ?? [])
        {
            values[i] = (await RequestAsync(PduType.Get, 0, 0, [scalars[i]], cancellationToken).ConfigureAwait(false))[0];
        }

        await FinishWalkAsync(walk, cancellationToken).ConfigureAwait(false);
        return (values, walk.Rows);
    }

    /// <summary>Rows per column in one GETBULK: about <c>MaxRepetitions × 8</c> variables a response, at least one row.</summary>
    private int Repetitions(int columns) => Math.Max(1, _options.MaxRepetitions * 8 / Math.Max(8, columns));

    private async Task FinishWalkAsync(ColumnWalk walk, CancellationToken cancellationToken)
    {
        while (walk.ActiveCount > 0)
        {
            var from = walk.From();
            if (!IsV1)
            {
                walk.Accept(await GetBulkAsync(0, Repetitions(from.Length), from, cancellationToken).ConfigureAwait(false), 0);
                continue;
            }

            try
            {
                walk.Accept(await GetNextAsync(from, cancellationToken).ConfigureAwait(false), 0);
            }
            catch (SnmpErrorStatusException ex) when (ex.Status == SnmpErrorStatusException.NoSuchName && ex.Index >= 1 && ex.Index <= from.Length)
            {
                // SNMPv1 end of the MIB: the agent named the column that ran off it.
                walk.EndActive(ex.Index - 1);
            }
        }
    }

    private async Task<IReadOnlyList<VarBind>> RequestAsync(
        PduType type, int errorStatusOrNonRepeaters, int errorIndexOrMaxRepetitions, IReadOnlyList<ObjectIdentifier> oids, CancellationToken cancellationToken)
    {
        if (++_requests > _options.MaxRequests)
        {
            throw new SnmpException($"request budget of {_options.MaxRequests} requests for this device exhausted");
        }

        var varBinds = oids.Select(o => new VarBind(o)).ToArray();
        var requestId = NextRequestId();
        var pdu = new Pdu(type, requestId, errorStatusOrNonRepeaters, errorIndexOrMaxRepetitions, varBinds);
        var response = _credentials switch
        {
            CommunityCredentials c => await ExchangeCommunityAsync(c, pdu, cancellationToken).ConfigureAwait(false),
            UsmCredentials u => await ExchangeV3Async(u, pdu, cancellationToken).ConfigureAwait(false),
            _ => throw new SnmpException("unsupported credentials"),
        };

        if (response.ErrorStatus != 0)
        {
            throw new SnmpErrorStatusException(response.ErrorStatus, response.ErrorIndex);
        }

        if (type != PduType.GetBulk && response.VarBinds.Count != varBinds.Length)
        {
            throw new SnmpException($"agent answered {response.VarBinds.Count} variables for {varBinds.Length} requested");
        }

        return response.VarBinds;
    }

    private async Task<Pdu> ExchangeCommunityAsync(CommunityCredentials credentials, Pdu pdu, CancellationToken cancellationToken)
    {
        if (pdu.Type == PduType.GetBulk && credentials.Version == CommunityVersion.V1)
        {
            throw new SnmpException("GETBULK does not exist in SNMPv1");
        }

        var community = Encoding.UTF8.GetBytes(credentials.Community);
        var packet = new CommunityMessage(community, pdu, credentials.Version).Encode();
        var answer = await ExchangeAsync<Pdu>(packet, pdu.RequestId, bytes =>
        {
            if (!CommunityMessage.TryDecode(bytes, out var message, out var error))
            {
                return (null, $"malformed response: {error}");
            }

            if (message!.Version != credentials.Version || message.Pdu.Type != PduType.Response || message.Pdu.RequestId != pdu.RequestId)
            {
                return (null, null);
            }

            return (message.Pdu, null);
        }, cancellationToken).ConfigureAwait(false);
        return answer;
    }

    private async Task<Pdu> ExchangeV3Async(UsmCredentials credentials, Pdu pdu, CancellationToken cancellationToken)
    {
        if (_engineId is null)
        {
            await DiscoverEngineAsync(cancellationToken).ConfigureAwait(false);
        }

        // Hashing a megabyte per new password must not hold up the transport's thread, where this may run.
        _keys ??= await Task.Run(() => Usm.LocalizeKeys(credentials.Auth, credentials.AuthPassword, credentials.Priv, credentials.PrivPassword, _engineId), cancellationToken).ConfigureAwait(false);
        var resynchronised = false;
        while (true)
        {
            var reply = await SendV3Async(credentials, pdu with { RequestId = NextRequestId() }, cancellationToken).ConfigureAwait(false);
            if (reply.Pdu.Type == PduType.Response)
            {
                return reply.Pdu;
            }

            var reported = reply.Pdu.VarBinds.Count > 0 ? reply.Pdu.VarBinds[0].Oid : null;
            if (reported == NotInTimeWindows && reply.Authenticated && !resynchronised)
            {
                resynchronised = true;
                continue;
            }

            throw new SnmpException(DescribeReport(reported));
        }
    }

    /// <summary>
    /// An agent that cannot decrypt a request drops it without a report (net-snmp does). So until an encrypted
    /// request has been answered, half the tries go to it; if it stays silent, an empty authNoPriv GET tells
    /// "wrong privacy password or protocol" (the agent proves it knows the user and auth key) from "no agent".
    /// </summary>
    private async Task<(Pdu Pdu, bool Authenticated)> SendV3Async(UsmCredentials credentials, Pdu pdu, CancellationToken cancellationToken)
    {
        var keys = _keys!;
        if (keys.Priv == PrivProtocol.None || _privacyAnswered)
        {
            return await ExchangeV3OnceAsync(credentials, pdu, keys, _options.Retries, cancellationToken).ConfigureAwait(false);
        }

        var firstRetries = _options.Retries / 2;
        try
        {
            var reply = await ExchangeV3OnceAsync(credentials, pdu, keys, firstRetries, cancellationToken).ConfigureAwait(false);
            _privacyAnswered = true;
            return reply;
        }
        catch (SnmpTimeoutException) when (_options.Retries > firstRetries)
        {
            var authOnly = new UsmKeys(keys.Auth, keys.AuthKey, PrivProtocol.None, []);
            var probe = new Pdu(PduType.Get, NextRequestId(), 0, 0, []);
            var answer = await ExchangeV3OnceAsync(credentials, probe, authOnly, _options.Retries - firstRetries - 1, cancellationToken).ConfigureAwait(false);
            throw new SnmpException(answer.Authenticated
                ? "decryption failed: the agent ignores our encrypted requests but answers authNoPriv, so the user and auth password are right: wrong privacy password or protocol"
                : DescribeReport(answer.Pdu.VarBinds.Count > 0 ? answer.Pdu.VarBinds[0].Oid : null));
        }
    }

    private static string DescribeReport(ObjectIdentifier? reported)
    {
        if (reported == WrongDigests)
        {
            return "authentication failed: wrong auth password or protocol (usmStatsWrongDigests)";
        }

        if (reported == UnknownUserNames)
        {
            return "authentication failed: unknown user (usmStatsUnknownUserNames)";
        }

        if (reported == UnsupportedSecLevels)
        {
            return "the agent does not support this security level for the user (usmStatsUnsupportedSecLevels)";
        }

        if (reported == DecryptionErrors)
        {
            return "decryption failed: wrong privacy password or protocol (usmStatsDecryptionErrors)";
        }

        if (reported == NotInTimeWindows)
        {
            return "not in time window even after resynchronising (usmStatsNotInTimeWindows)";
        }

        if (reported == UnknownEngineIds)
        {
            return "engine id rejected (usmStatsUnknownEngineIDs)";
        }

        return $"agent sent a report: {reported?.ToString() ?? "no variable"}";
    }

    private async Task DiscoverEngineAsync(CancellationToken cancellationToken)
    {
        var messageId = NextRequestId();
        var pdu = new Pdu(PduType.Get, NextRequestId(), 0, 0, []);
        var scoped = new ScopedPdu([], [], pdu).Encode();
        var (packet, _) = V3Message.Encode(messageId, MaxMessageSize, V3Flags.Reportable, UsmSecurityParameters.Empty, scoped);
        var report = await ExchangeAsync<V3Message>(packet, messageId, bytes =>
        {
            if (V3Message.PeekVersion(bytes) != V3Message.WireVersion)
            {
                return (null, null);
            }

            if (!V3Message.TryDecode(bytes.ToArray(), out var message, out var error))
            {
                return (null, $"malformed response: {error}");
            }

            return message!.MessageId == messageId ? (message, null) : (null, null);
        }, cancellationToken).ConfigureAwait(false);

        if (report.Usm.EngineId.Length is < 5 or > 32)
        {
            throw new SnmpException("engine discovery failed: the agent reported no valid engine id");
        }

        _engineId = report.Usm.EngineId;
        SetTime(report.Usm.EngineBoots, report.Usm.EngineTime);
    }

    private void SetTime(int boots, int time)
    {
        _engineBoots = boots;
        _engineTime = time;
        _engineTimeAt = Stopwatch.GetTimestamp();
    }

    private int CurrentEngineTime() => _engineTime + (int)Stopwatch.GetElapsedTime(_engineTimeAt).TotalSeconds;

    private async Task<(Pdu Pdu, bool Authenticated)> ExchangeV3OnceAsync(UsmCredentials credentials, Pdu pdu, UsmKeys keys, int retries, CancellationToken cancellationToken)
    {
        var engineId = _engineId!;
        var messageId = NextRequestId();
        var flags = V3Flags.Reportable;
        var scoped = new ScopedPdu(engineId, [], pdu).Encode();
        var boots = _engineBoots;
        var time = CurrentEngineTime();
        byte[] msgData = scoped;
        byte[] privParameters = [];
        if (keys.Auth != AuthProtocol.None)
        {
            flags |= V3Flags.Auth;
        }

        if (keys.Priv != PrivProtocol.None)
        {
            flags |= V3Flags.Priv;
            privParameters = Usm.Salt(keys.Priv, boots, Interlocked.Increment(ref _salt));
            var encrypted = Usm.Encrypt(keys, boots, time, privParameters, scoped);
            var wrapper = new BerWriter(encrypted.Length + 8);
            wrapper.WriteOctetString(encrypted);
            msgData = wrapper.ToArray();
        }

        var usm = new UsmSecurityParameters(engineId, boots, time, Encoding.UTF8.GetBytes(credentials.User), new byte[Usm.MacLength(keys.Auth)], privParameters);
        var (packet, authOffset) = V3Message.Encode(messageId, MaxMessageSize, flags, usm, msgData);
        if (keys.Auth != AuthProtocol.None)
        {
            Usm.Sign(keys, packet, authOffset);
        }

        return await ExchangeAsync<(Pdu, bool)?>(packet, messageId, bytes =>
        {
            if (V3Message.PeekVersion(bytes) != V3Message.WireVersion)
            {
                return (null, null);
            }

            if (!V3Message.TryDecode(bytes.ToArray(), out var message, out var error))
            {
                return (null, $"malformed response: {error}");
            }

            if (message!.MessageId != messageId)
            {
                return (null, null);
            }

            var authenticated = (message.Flags & V3Flags.Auth) != 0;
            if (authenticated && !Usm.Verify(keys, message))
            {
                return (null, "response failed authentication");
            }

            var scopedPdu = message.Scoped;
            if (message.EncryptedPdu is not null)
            {
                try
                {
                    var plain = Usm.Decrypt(keys, message.Usm.EngineBoots, message.Usm.EngineTime, message.Usm.PrivParameters, message.EncryptedPdu);
                    scopedPdu = ScopedPdu.Decode(plain);
                }
                catch (SnmpFormatException ex)
                {
                    return (null, $"undecryptable response: {ex.Message}");
                }
            }

            var answer = scopedPdu!.Pdu;
            if (answer.Type == PduType.Report)
            {
                if (authenticated)
                {
                    SetTime(message.Usm.EngineBoots, message.Usm.EngineTime);
                }

                return ((answer, authenticated), null);
            }

            // Data from an agent is only believed when it proves it holds the user's key.
            if (answer.Type != PduType.Response || answer.RequestId != pdu.RequestId || (keys.Auth != AuthProtocol.None && !authenticated))
            {
                return (null, null);
            }

            return ((answer, authenticated), null);
        }, cancellationToken, retries).ConfigureAwait(false) ?? throw new SnmpException("no answer");
    }

    /// <summary>
    /// Sends, then waits for a datagram the matcher accepts, retransmitting the same packet on each try timeout.
    /// The transport drops datagrams with another request id; undecodable ones are remembered for the error.
    /// </summary>
    private async Task<T> ExchangeAsync<T>(byte[] packet, int id, Func<ReadOnlySpan<byte>, (T? Match, string? Problem)> matcher, CancellationToken cancellationToken, int? retries = null)
    {
        var tries = (retries ?? _options.Retries) + 1;
        using var exchange = _transport.Open(_agent, id, matcher, cancellationToken);
        for (var attempt = 0; attempt < tries; attempt++)
        {
            var match = await exchange.TryAsync(packet, _options.TryTimeout).ConfigureAwait(false);
            if (match is not null)
            {
                return match;
            }
        }

        throw exchange.Problem is null
            ? new SnmpTimeoutException($"no response after {tries} tries of {_options.TryTimeout.TotalMilliseconds:F0} ms (unreachable agent, or wrong community / credentials)")
            : new SnmpException(exchange.Problem);
    }

    private static int NextRequestId() => SnmpTransport.NextId();

    public void Dispose()
    {
        // Nothing to release: the transport's sockets live as long as the process.
    }
}
