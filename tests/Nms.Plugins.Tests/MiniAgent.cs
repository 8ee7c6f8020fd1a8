using Nms.Plugins.Snmp.Codec;

namespace Nms.Plugins.Tests;

/// <summary>
/// A small SNMPv2c agent over a fixed MIB, for cases a fresh snmpd cannot show (hrProcessorLoad only appears after
/// snmpd's first minute, interfaces without ifName).
/// </summary>
public sealed class MiniAgent : IDisposable
{
    private readonly SortedDictionary<ObjectIdentifier, SnmpValue> _mib;
    private readonly ScriptedAgent _agent;

    public MiniAgent(IEnumerable<(string Oid, SnmpValue Value)> mib)
    {
        _mib = new SortedDictionary<ObjectIdentifier, SnmpValue>(mib.ToDictionary(e => ObjectIdentifier.Parse(e.Oid), e => e.Value));
        _agent = ScriptedAgent.V2c(request =>
            [new CommunityMessage(request.Community, new Pdu(PduType.Response, request.Pdu.RequestId, 0, 0, Answer(request.Pdu))).Encode()]);
    }

    public int Port => _agent.Port;

    public static SnmpValue Int(long value) => new(SnmpType.Integer, Integer: value);

    public static SnmpValue Text(string value) => new(SnmpType.OctetString, Bytes: System.Text.Encoding.UTF8.GetBytes(value));

    public static SnmpValue Counter64(ulong value) => new(SnmpType.Counter64, Unsigned: value);

    public static SnmpValue Counter32(ulong value) => new(SnmpType.Counter32, Unsigned: value);

    public static SnmpValue Ticks(ulong value) => new(SnmpType.TimeTicks, Unsigned: value);

    private List<VarBind> Answer(Pdu pdu)
    {
        var oids = pdu.VarBinds.Select(v => v.Oid).ToList();
        switch (pdu.Type)
        {
            case PduType.Get:
                return oids.Select(o => new VarBind(o, _mib.TryGetValue(o, out var v) ? v : new SnmpValue(SnmpType.NoSuchObject))).ToList();
            case PduType.GetNext:
                return oids.Select(Next).ToList();
            default:
                var nonRepeaters = Math.Min(pdu.ErrorStatus, oids.Count);
                var result = oids.Take(nonRepeaters).Select(Next).ToList();
                var cursors = oids.Skip(nonRepeaters).ToArray();
                for (var r = 0; r < pdu.ErrorIndex && cursors.Length > 0; r++)
                {
                    for (var c = 0; c < cursors.Length; c++)
                    {
                        var next = Next(cursors[c]);
                        result.Add(next);
                        cursors[c] = next.Oid;
                    }
                }

                return result;
        }
    }

    private VarBind Next(ObjectIdentifier oid)
    {
        foreach (var (key, value) in _mib)
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
