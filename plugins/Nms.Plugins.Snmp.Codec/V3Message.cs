namespace Nms.Plugins.Snmp.Codec;

[Flags]
public enum V3Flags : byte
{
    None = 0,
    Auth = 1,
    Priv = 2,
    Reportable = 4,
}

public sealed record UsmSecurityParameters(
    byte[] EngineId,
    int EngineBoots,
    int EngineTime,
    byte[] UserName,
    byte[] AuthParameters,
    byte[] PrivParameters)
{
    public static UsmSecurityParameters Empty { get; } = new([], 0, 0, [], [], []);

    public byte[] Encode()
    {
        var writer = new BerWriter(128);
        var seq = writer.Begin();
        writer.WriteOctetString(EngineId);
        writer.WriteInteger(EngineBoots);
        writer.WriteInteger(EngineTime);
        writer.WriteOctetString(UserName);
        writer.WriteOctetString(AuthParameters);
        writer.WriteOctetString(PrivParameters);
        writer.End(seq, BerTag.Sequence);
        return writer.ToArray();
    }
}

public sealed record ScopedPdu(byte[] ContextEngineId, byte[] ContextName, Pdu Pdu)
{
    public byte[] Encode()
    {
        var writer = new BerWriter();
        var seq = writer.Begin();
        writer.WriteOctetString(ContextEngineId);
        writer.WriteOctetString(ContextName);
        Pdu.Encode(writer);
        writer.End(seq, BerTag.Sequence);
        return writer.ToArray();
    }

    public static ScopedPdu Decode(ReadOnlySpan<byte> encoded)
    {
        // Decrypted CFB plaintext carries no padding, but some agents pad after the sequence: trailing bytes are ignored.
        var outer = new BerReader(encoded);
        var seq = outer.ReadConstructed(BerTag.Sequence);
        var engineId = seq.ReadOctetString();
        var contextName = seq.ReadOctetString();
        var pdu = Pdu.Decode(ref seq);
        seq.ExpectEnd();
        return new ScopedPdu(engineId, contextName, pdu);
    }
}

/// <summary>
/// An SNMPv3 message (RFC 3412) with the User-based Security Model (RFC 3414). Decoding keeps the raw packet and
/// where the authentication parameters sit in it, because the HMAC is computed over the packet with them zeroed.
/// </summary>
public sealed record V3Message(
    int MessageId,
    int MaxSize,
    V3Flags Flags,
    UsmSecurityParameters Usm,
    ScopedPdu? Scoped,
    byte[]? EncryptedPdu,
    byte[] Raw,
    int AuthParametersOffset)
{
    public const int WireVersion = 3;
    public const int UsmSecurityModel = 3;

    /// <summary>Encodes a message whose scoped PDU is already in plaintext or encrypted form.</summary>
    /// <returns>The packet and the offset of the authentication parameters placeholder in it.</returns>
    public static (byte[] Packet, int AuthOffset) Encode(int messageId, int maxSize, V3Flags flags, UsmSecurityParameters usm, ReadOnlySpan<byte> msgData)
    {
        ArgumentNullException.ThrowIfNull(usm);
        var security = usm.Encode();
        var writer = new BerWriter(security.Length + msgData.Length + 64);
        var message = writer.Begin();
        writer.WriteInteger(WireVersion);
        var header = writer.Begin();
        writer.WriteInteger(messageId);
        writer.WriteInteger(maxSize);
        writer.WriteOctetString([(byte)flags]);
        writer.WriteInteger(UsmSecurityModel);
        writer.End(header, BerTag.Sequence);
        writer.WriteOctetString(security);
        writer.WriteRaw(msgData);
        writer.End(message, BerTag.Sequence);
        var packet = writer.ToArray();
        // authParameters is the second-to-last field of the security parameters, which precede msgData.
        var authOffset = packet.Length - msgData.Length - BerWriter.TlvLength(usm.PrivParameters.Length) - usm.AuthParameters.Length;
        return (packet, authOffset);
    }

    public static bool TryDecode(byte[] packet, out V3Message? message, out string? error) =>
        SnmpFormat.TryDecode(packet, Decode, out message, out error);

    public static V3Message Decode(byte[] packet)
    {
        ArgumentNullException.ThrowIfNull(packet);
        var outer = new BerReader(packet);
        var body = outer.ReadConstructed(BerTag.Sequence);
        outer.ExpectEnd();
        var version = body.ReadInteger();
        if (version != WireVersion)
        {
            throw new SnmpFormatException($"not an SNMPv3 message (version {version})");
        }

        var header = body.ReadConstructed(BerTag.Sequence);
        var messageId = header.ReadInt32();
        var maxSize = header.ReadInt32();
        var flagBytes = header.ReadOctetString();
        var model = header.ReadInteger();
        header.ExpectEnd();
        if (flagBytes.Length != 1)
        {
            throw new SnmpFormatException("msgFlags must be one octet");
        }

        if (model != UsmSecurityModel)
        {
            throw new SnmpFormatException($"security model {model} is not USM");
        }

        var flags = (V3Flags)flagBytes[0];
        if ((flags & V3Flags.Priv) != 0 && (flags & V3Flags.Auth) == 0)
        {
            throw new SnmpFormatException("privacy without authentication");
        }

        var securityBytes = body.ReadOctetStringSpan(out var securityOffset);
        var securityOuter = new BerReader(securityBytes, securityOffset);
        var security = securityOuter.ReadConstructed(BerTag.Sequence);
        securityOuter.ExpectEnd();
        var engineId = security.ReadOctetString();
        var boots = security.ReadInt32();
        var time = security.ReadInt32();
        var user = security.ReadOctetString();
        var auth = security.ReadOctetStringSpan(out var authOffset).ToArray();
        var priv = security.ReadOctetString();
        security.ExpectEnd();
        if (engineId.Length > 32 || user.Length > 32)
        {
            throw new SnmpFormatException("engine id or user name too long");
        }

        var usm = new UsmSecurityParameters(engineId, boots, time, user, auth, priv);
        ScopedPdu? scoped = null;
        byte[]? encrypted = null;
        if ((flags & V3Flags.Priv) != 0)
        {
            encrypted = body.ReadOctetString();
        }
        else
        {
            var scopedBytes = body.ReadTlv(out var tag, out _);
            if (tag != BerTag.Sequence)
            {
                throw new SnmpFormatException("plaintext scoped PDU expected");
            }

            var scopedReader = new BerReader(scopedBytes);
            var engine = scopedReader.ReadOctetString();
            var context = scopedReader.ReadOctetString();
            var pdu = Pdu.Decode(ref scopedReader);
            scopedReader.ExpectEnd();
            scoped = new ScopedPdu(engine, context, pdu);
        }

        body.ExpectEnd();
        return new V3Message(messageId, maxSize, flags, usm, scoped, encrypted, packet, authOffset);
    }

    /// <summary>Peeks at the version field without decoding the rest.</summary>
    public static long? PeekVersion(ReadOnlySpan<byte> packet)
    {
        try
        {
            var outer = new BerReader(packet);
            var body = outer.ReadConstructed(BerTag.Sequence);
            return body.ReadInteger();
        }
        catch (SnmpFormatException)
        {
            return null;
        }
    }
}
