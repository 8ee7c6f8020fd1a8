namespace Nms.Plugins.Snmp.Codec;

/// <summary>An SNMPv1 (RFC 1157) or SNMPv2c (RFC 1901) message: a version, a community, one PDU.</summary>
public sealed record CommunityMessage(byte[] Community, Pdu Pdu, CommunityVersion Version = CommunityVersion.V2c)
{
    public byte[] Encode()
    {
        var writer = new BerWriter();
        var message = writer.Begin();
        writer.WriteInteger((int)Version);
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
        if (version is not ((int)CommunityVersion.V1 or (int)CommunityVersion.V2c))
        {
            throw new SnmpFormatException($"not an SNMPv1 or SNMPv2c message (version {version})");
        }

        var community = body.ReadOctetString();
        var pdu = Pdu.Decode(ref body);
        body.ExpectEnd();
        if (version == (int)CommunityVersion.V1 && pdu.Type is PduType.GetBulk or PduType.Inform or PduType.TrapV2 or PduType.Report)
        {
            throw new SnmpFormatException($"{pdu.Type} is not an SNMPv1 PDU");
        }

        return new CommunityMessage(community, pdu, (CommunityVersion)version);
    }
}
