using System.Globalization;
using System.Text;

namespace Nms.Plugins.Snmp.Codec;

public enum SnmpType : byte
{
    Integer = 0x02,
    OctetString = 0x04,
    Null = 0x05,
    ObjectIdentifier = 0x06,
    IpAddress = 0x40,
    Counter32 = 0x41,
    Gauge32 = 0x42,
    TimeTicks = 0x43,
    Opaque = 0x44,
    Counter64 = 0x46,
    NoSuchObject = 0x80,
    NoSuchInstance = 0x81,
    EndOfMibView = 0x82,
}

public enum PduType : byte
{
    Get = 0xA0,
    GetNext = 0xA1,
    Response = 0xA2,
    Set = 0xA3,
    GetBulk = 0xA5,
    Inform = 0xA6,
    TrapV2 = 0xA7,
    Report = 0xA8,
}

public sealed record SnmpValue(SnmpType Type, long Integer = 0, ulong Unsigned = 0, byte[]? Bytes = null, ObjectIdentifier? Oid = null)
{
    public static SnmpValue Null { get; } = new(SnmpType.Null);

    /// <summary>noSuchObject, noSuchInstance or endOfMibView: the agent answered, but has no value.</summary>
    public bool IsException => Type is SnmpType.NoSuchObject or SnmpType.NoSuchInstance or SnmpType.EndOfMibView;

    public double? AsNumber() => Type switch
    {
        SnmpType.Integer => Integer,
        SnmpType.Counter32 or SnmpType.Gauge32 or SnmpType.TimeTicks or SnmpType.Counter64 => Unsigned,
        _ => null,
    };

    public string? AsText() => Type switch
    {
        SnmpType.OctetString => Encoding.UTF8.GetString(Bytes ?? []),
        SnmpType.ObjectIdentifier => Oid?.ToString(),
        SnmpType.IpAddress when Bytes is { Length: 4 } b => $"{b[0]}.{b[1]}.{b[2]}.{b[3]}",
        _ => AsNumber()?.ToString(CultureInfo.InvariantCulture),
    };

    public void Encode(BerWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        switch (Type)
        {
            case SnmpType.Integer:
                writer.WriteInteger(Integer);
                break;
            case SnmpType.OctetString or SnmpType.Opaque or SnmpType.IpAddress:
                writer.WriteOctetString(Bytes ?? [], (byte)Type);
                break;
            case SnmpType.ObjectIdentifier:
                writer.WriteOid(Oid ?? throw new InvalidOperationException("OID value without an OID"));
                break;
            case SnmpType.Counter32 or SnmpType.Gauge32 or SnmpType.TimeTicks or SnmpType.Counter64:
                writer.WriteUnsigned(Unsigned, (byte)Type);
                break;
            default:
                writer.WriteNull((byte)Type);
                break;
        }
    }

    public static SnmpValue Decode(byte tag, ReadOnlySpan<byte> content) => tag switch
    {
        BerTag.Integer => new SnmpValue(SnmpType.Integer, Integer: BerReader.DecodeInteger(content)),
        BerTag.OctetString or (byte)SnmpType.Opaque => new SnmpValue((SnmpType)tag, Bytes: content.ToArray()),
        BerTag.Null or (byte)SnmpType.NoSuchObject or (byte)SnmpType.NoSuchInstance or (byte)SnmpType.EndOfMibView => new SnmpValue((SnmpType)tag),
        BerTag.ObjectIdentifier => new SnmpValue(SnmpType.ObjectIdentifier, Oid: BerReader.DecodeOid(content)),
        (byte)SnmpType.IpAddress when content.Length == 4 => new SnmpValue(SnmpType.IpAddress, Bytes: content.ToArray()),
        (byte)SnmpType.Counter32 or (byte)SnmpType.Gauge32 or (byte)SnmpType.TimeTicks => new SnmpValue((SnmpType)tag, Unsigned: BerReader.DecodeUnsigned(content, 32)),
        (byte)SnmpType.Counter64 => new SnmpValue(SnmpType.Counter64, Unsigned: BerReader.DecodeUnsigned(content, 64)),
        _ => throw new SnmpFormatException($"unsupported value tag 0x{tag:X2}"),
    };

    public override string ToString() => $"{Type}: {AsText()}";
}

public sealed record VarBind(ObjectIdentifier Oid, SnmpValue Value)
{
    public VarBind(ObjectIdentifier oid) : this(oid, SnmpValue.Null)
    {
    }
}

/// <summary>
/// An SNMPv2 PDU. For GETBULK the error-status and error-index fields carry non-repeaters and max-repetitions.
/// </summary>
public sealed record Pdu(PduType Type, int RequestId, int ErrorStatus, int ErrorIndex, IReadOnlyList<VarBind> VarBinds)
{
    private static readonly string[] ErrorNames =
    [
        "noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr", "noAccess", "wrongType", "wrongLength",
        "wrongEncoding", "wrongValue", "noCreation", "inconsistentValue", "resourceUnavailable", "commitFailed",
        "undoFailed", "authorizationError", "notWritable", "inconsistentName",
    ];

    public static string ErrorName(int status) =>
        status >= 0 && status < ErrorNames.Length ? ErrorNames[status] : status.ToString(CultureInfo.InvariantCulture);

    public void Encode(BerWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var pdu = writer.Begin();
        writer.WriteInteger(RequestId);
        writer.WriteInteger(ErrorStatus);
        writer.WriteInteger(ErrorIndex);
        var list = writer.Begin();
        foreach (var vb in VarBinds)
        {
            var item = writer.Begin();
            writer.WriteOid(vb.Oid);
            vb.Value.Encode(writer);
            writer.End(item, BerTag.Sequence);
        }

        writer.End(list, BerTag.Sequence);
        writer.End(pdu, (byte)Type);
    }

    public static Pdu Decode(ref BerReader reader)
    {
        var content = reader.ReadTlv(out var tag, out var offset);
        if (tag is < (byte)PduType.Get or > (byte)PduType.Report or 0xA4)
        {
            throw new SnmpFormatException($"not an SNMPv2 PDU tag: 0x{tag:X2}");
        }

        var body = new BerReader(content, offset);
        var requestId = body.ReadInt32();
        var errorStatus = body.ReadInt32();
        var errorIndex = body.ReadInt32();
        var list = body.ReadConstructed(BerTag.Sequence);
        body.ExpectEnd();
        var varBinds = new List<VarBind>();
        while (list.HasMore)
        {
            var item = list.ReadConstructed(BerTag.Sequence);
            var oid = item.ReadOid();
            var valueContent = item.ReadTlv(out var valueTag, out _);
            item.ExpectEnd();
            varBinds.Add(new VarBind(oid, SnmpValue.Decode(valueTag, valueContent)));
        }

        return new Pdu((PduType)tag, requestId, errorStatus, errorIndex, varBinds);
    }
}
