namespace Nms.Plugins.Snmp.Codec;

/// <summary>An SNMPv2c message (RFC 1901): version 1 on the wire, a community, one PDU.</summary>
public sealed record CommunityMessage(byte[] Community, Pdu Pdu)
{
    public const int WireVersion = 1;

    public byte[] Encode()
    {
        var writer = new BerWriter();
        var message = writer.Begin();
        writer.WriteInteger(WireVersion);
        writer.WriteOctetString(Community);
        Pdu.Encode(writer);
        writer.End(message, BerTag.Sequence);
        return writer.ToArray();
    }

    public static bool TryDecode(ReadOnlySpan<byte> packet, out CommunityMessage? message, out string? error) =>
        SnmpFormat.TryDecode(packet, static p => Decode(p), out message, out error);

    public static CommunityMessage Decode(ReadOnlySpan<byte> packet)
    {
        var outer = new BerReader(packet);
        var body = outer.ReadConstructed(BerTag.Sequence);
        outer.ExpectEnd();
        var version = body.ReadInteger();
        if (version != WireVersion)
        {
            throw new SnmpFormatException($"not an SNMPv2c message (version {version})");
        }

        var community = body.ReadOctetString();
        var pdu = Pdu.Decode(ref body);
        body.ExpectEnd();
        return new CommunityMessage(community, pdu);
    }
}
