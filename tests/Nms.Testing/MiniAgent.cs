using Nms.Plugins.Snmp.Codec;

namespace Nms.Testing;

/// <summary>
/// A small SNMPv1/v2c agent over a fixed MIB, for cases a fresh snmpd cannot show (hrProcessorLoad only appears after
/// snmpd's first minute, interfaces without ifName, a v1 agent whose MIB ends early). Over v1 it answers as RFC 1157
/// and RFC 3584 say: Counter64 objects are invisible, an absent object or the end of the MIB is noSuchName.
/// </summary>
public sealed class MiniAgent : IDisposable
{
    private readonly Mib _mib;
    private readonly Mib _v1View;
    private readonly ScriptedAgent _agent;

    public MiniAgent(IEnumerable<(string Oid, SnmpValue Value)> mib)
    {
        var all = mib.Select(e => (Oid: ObjectIdentifier.Parse(e.Oid), e.Value)).ToList();
        _mib = new Mib(all);
        _v1View = new Mib(all.Where(e => e.Value.Type != SnmpType.Counter64));
        _agent = ScriptedAgent.V2c(request =>
        {
            Requests.Add(request.Pdu.Type);
            var v1 = request.Version == CommunityVersion.V1;
            var answer = Answer(v1 ? _v1View : _mib, request.Pdu);
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

    private static List<VarBind> Answer(Mib mib, Pdu pdu)
    {
        var oids = pdu.VarBinds.Select(v => v.Oid).ToList();
        switch (pdu.Type)
        {
            case PduType.Get:
                return oids.Select(mib.Get).ToList();
            case PduType.GetNext:
                return oids.Select(mib.Next).ToList();
            default:
                var nonRepeaters = Math.Min(pdu.ErrorStatus, oids.Count);
                var result = oids.Take(nonRepeaters).Select(mib.Next).ToList();
                var cursors = oids.Skip(nonRepeaters).ToArray();
                for (var r = 0; r < pdu.ErrorIndex && cursors.Length > 0; r++)
                {
                    for (var c = 0; c < cursors.Length; c++)
                    {
                        var next = mib.Next(cursors[c]);
                        result.Add(next);
                        cursors[c] = next.Oid;
                    }
                }

                return result;
        }
    }

    public void Dispose() => _agent.Dispose();
}

/// <summary>A sorted MIB view with binary-search GET and GETNEXT.</summary>
internal sealed class Mib
{
    private readonly ObjectIdentifier[] _oids;
    private readonly SnmpValue[] _values;

    public Mib(IEnumerable<(ObjectIdentifier Oid, SnmpValue Value)> entries)
    {
        var sorted = entries.OrderBy(e => e.Oid).ToArray();
        _oids = sorted.Select(e => e.Oid).ToArray();
        _values = sorted.Select(e => e.Value).ToArray();
    }

    public VarBind Get(ObjectIdentifier oid)
    {
        var i = Array.BinarySearch(_oids, oid);
        return new VarBind(oid, i >= 0 ? _values[i] : new SnmpValue(SnmpType.NoSuchObject));
    }

    public VarBind Next(ObjectIdentifier oid)
    {
        var i = Array.BinarySearch(_oids, oid);
        var next = i >= 0 ? i + 1 : ~i;
        return next < _oids.Length ? new VarBind(_oids[next], _values[next]) : new VarBind(oid, new SnmpValue(SnmpType.EndOfMibView));
    }
}
