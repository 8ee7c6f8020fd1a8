namespace Nms.Plugins.Snmp.Codec;

/// <summary>Reads just enough of a datagram to know which request it answers, before anything is decoded.</summary>
public static class SnmpPacket
{
    /// <summary>The request-id of a v1/v2c message, the msgID of a v3 one.</summary>
    public static bool TryPeekId(ReadOnlySpan<byte> packet, out int id, out string? error)
    {
        try
        {
            var outer = new BerReader(packet);
            var body = outer.ReadConstructed(BerTag.Sequence);
            var version = body.ReadInteger();
            if (version == V3Message.WireVersion)
            {
                var header = body.ReadConstructed(BerTag.Sequence);
                id = header.ReadInt32();
            }
            else
            {
                body.ReadExpected(BerTag.OctetString, out _);
                var pdu = body.ReadConstructed(body.PeekTag());
                id = pdu.ReadInt32();
            }

            error = null;
            return true;
        }
        catch (SnmpFormatException ex)
        {
            id = 0;
            error = ex.Message;
            return false;
        }
    }
}
