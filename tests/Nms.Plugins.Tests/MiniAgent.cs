using Nms.Plugins.Snmp.Codec;

namespace Nms.Plugins.Tests;

/// <summary>
/// A small SNMPv1/v2c agent over a fixed MIB, for cases a fresh snmpd cannot show (hrProcessorLoad only appears after
/// snmpd's first minute, interfaces without ifName, a v1 agent whose MIB ends early). Over v1 it answers as RFC 1157
/// and RFC 3584 say: Counter64 objects are invisible, an absent object or the end of the MIB is noSuchName.
/// </summary>
public sealed class MiniAgent : IDisposable
{
    private readonly SortedDictionary<ObjectIdentifier, SnmpValue> _mib;
    private readonly ScriptedAgent _agent;

    public MiniAgent(IEnumerable<(string Oid, SnmpValue Value)> mib)
    {
        _mib = new SortedDictionary<ObjectIdentifier, SnmpValue>(mib.ToDictionary(e => ObjectIdentifier.Parse(e.Oid), e => e.Value));
        _agent = ScriptedAgent.V2c(request =>
        {
            Requests.Add(request.Pdu.Type);
            var v1 = request.Version == CommunityVersion.V1;
            var view = v1 ? new SortedDictionary<ObjectIdentifier, SnmpValue>(_mib.Where(e => e.Value.Type != SnmpType.Counter64).ToDictionary()) : _mib;
            var answer = Answer(view, request.Pdu);
            var missing = answer.FindIndex(v => v.Value.IsException);
            var pdu = v1 && missing >= 0
                ? new Pdu(PduType.Response, request.Pdu.RequestId, 2, missing + 1, request.Pdu.VarBinds)
                : new Pdu(PduType.Response, request.Pdu.RequestId, 0, 0, answer);
            return [new CommunityMessage(request.Community, pdu, request.Version).Encode()];
        });
    }

    public System.Collections.Concurrent.ConcurrentBag<PduType> Requests { get; } = [];

    public int Port => _agent.Port;

    public static SnmpValue Int(long value) => new(SnmpType.Integer, Integer: value);

    public static SnmpValue Text(string value) => new(SnmpType.OctetString, Bytes: System.Text.Encoding.UTF8.GetBytes(value));

    public static SnmpValue Counter64(ulong value) => new(SnmpType.Counter64, Unsigned: value);

    public static SnmpValue Counter32(ulong value) => new(SnmpType.Counter32, Unsigned: value);

    public static SnmpValue Gauge32(ulong value) => new(SnmpType.Gauge32, Unsigned: value);

    public static SnmpValue Ticks(ulong value) => new(SnmpType.TimeTicks, Unsigned: value);

    private static List<VarBind> Answer(SortedDictionary<ObjectIdentifier, SnmpValue> mib, Pdu pdu)
    {
        var oids = pdu.VarBinds.Select(v => v.Oid).ToList();
        switch (pdu.Type)
        {
            case PduType.Get:
                return oids.Select(o => new VarBind(o, mib.TryGetValue(o, out var v) ? v : new SnmpValue(SnmpType.NoSuchObject))).ToList();
            case PduType.GetNext:
                return oids.Select(o => Next(mib, o)).ToList();
            default:
                var nonRepeaters = Math.Min(pdu.ErrorStatus, oids.Count);
                var result = oids.Take(nonRepeaters).Select(o => Next(mib, o)).ToList();
                var cursors = oids.Skip(nonRepeaters).ToArray();
                for (var r = 0; r < pdu.ErrorIndex && cursors.Length > 0; r++)
                {
                    for (var c = 0; c < cursors.Length; c++)
                    {
                        var next = Next(mib, cursors[c]);
                        result.Add(next);
                        cursors[c] = next.Oid;
                    }
                }

                return result;
        }
    }

    private static VarBind Next(SortedDictionary<ObjectIdentifier, SnmpValue> mib, ObjectIdentifier oid)
    {
        foreach (var (key, value) in mib)
        {
            if (key > oid)
            {
                return new VarBind(key, value);
            }
        }

        return new VarBind(oid, new SnmpValue(SnmpType.EndOfMibView));
    }

    public void Dispose() => _agent.Dispose();
}
