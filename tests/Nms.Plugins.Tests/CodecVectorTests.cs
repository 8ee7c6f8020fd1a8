using System.Text;
using Nms.Plugins.Snmp.Codec;
using Xunit;

namespace Nms.Plugins.Tests;

public sealed class CodecVectorTests
{
    private static readonly byte[] Rfc3414EngineId = Convert.FromHexString("000000000000000000000002");

    [Fact]
    public void Password_to_key_with_SHA1_matches_RFC3414_A_3_2()
    {
        var ku = Usm.PasswordToKey(AuthProtocol.Sha1, "maplesyrup");
        Assert.Equal("9FB5CC0381497B3793528939FF788D5D79145211", Convert.ToHexString(ku));
        var kul = Usm.Localize(AuthProtocol.Sha1, ku, Rfc3414EngineId);
        Assert.Equal("6695FEBC9288E36282235FC7151F128497B38F3F", Convert.ToHexString(kul));
    }

    [Fact]
    public void Password_to_key_with_SHA256_localises_as_RFC7860_prescribes()
    {
        // RFC 7860 reuses the RFC 3414 A.2 algorithm with SHA-256; the figures were worked out independently
        // (Python hashlib: sha256 over 1 MiB of the repeated password, then H(Ku || engineID || Ku)).
        var ku = Usm.PasswordToKey(AuthProtocol.Sha256, "maplesyrup");
        Assert.Equal("AB51014D1E077F6017DF2B12BEE5F5AA72993177E9BB569C4DFF5A4CA0B4AFAC", Convert.ToHexString(ku));
        var kul = Usm.Localize(AuthProtocol.Sha256, ku, Rfc3414EngineId);
        Assert.Equal("8982E0E549E866DB361A6B625D84CCCC11162D453EE8CE3A6445C2D6776F0F8B", Convert.ToHexString(kul));
    }

    [Fact]
    public void AES_privacy_key_is_the_first_16_octets_of_the_localised_key()
    {
        var keys = Usm.LocalizeKeys(AuthProtocol.Sha1, "maplesyrup", PrivProtocol.Aes128, "maplesyrup", Rfc3414EngineId);
        Assert.Equal("6695FEBC9288E36282235FC7151F1284", Convert.ToHexString(keys.PrivKey));
        Assert.Equal(20, keys.AuthKey.Length);
    }

    [Theory]
    [InlineData(0L, "020100")]
    [InlineData(127L, "02017F")]
    [InlineData(128L, "02020080")]
    [InlineData(256L, "02020100")]
    [InlineData(-1L, "0201FF")]
    [InlineData(-128L, "020180")]
    [InlineData(-129L, "0202FF7F")]
    [InlineData(2147483647L, "02047FFFFFFF")]
    public void Integers_encode_in_minimal_twos_complement(long value, string hex)
    {
        var writer = new BerWriter();
        writer.WriteInteger(value);
        Assert.Equal(hex, Convert.ToHexString(writer.ToArray()));
        var reader = new BerReader(writer.ToArray());
        Assert.Equal(value, reader.ReadInteger());
    }

    [Theory]
    [InlineData(0x41, 4294967295UL, "410500FFFFFFFF")]
    [InlineData(0x41, 0UL, "410100")]
    [InlineData(0x46, 18446744073709551615UL, "46090 0FFFFFFFFFFFFFFFF")]
    public void Unsigned_types_keep_a_leading_zero_when_the_top_bit_is_set(byte tag, ulong value, string hex)
    {
        var writer = new BerWriter();
        writer.WriteUnsigned(value, tag);
        Assert.Equal(hex.Replace(" ", "", StringComparison.Ordinal), Convert.ToHexString(writer.ToArray()));
        var decoded = SnmpValue.Decode(tag, writer.ToArray().AsSpan(2));
        Assert.Equal(value, decoded.Unsigned);
    }

    [Theory]
    [InlineData("1.3.6.1.2.1.1.5.0", "06082B06010201010500")]
    [InlineData("2.999.3", "0603883703")]
    [InlineData("1.3.6.1.4.1.4294967295", "060A2B06010401 8FFFFFFF7F")]
    public void Object_identifiers_follow_X690(string oid, string hex)
    {
        var writer = new BerWriter();
        writer.WriteOid(ObjectIdentifier.Parse(oid));
        var expected = hex.Replace(" ", "", StringComparison.Ordinal);
        Assert.Equal(expected, Convert.ToHexString(writer.ToArray()));
        Assert.Equal(oid, new BerReader(Convert.FromHexString(expected)).ReadOid().ToString());
    }

    [Fact]
    public void Long_lengths_use_the_long_form()
    {
        var writer = new BerWriter();
        writer.WriteOctetString(new byte[200]);
        Assert.Equal("0481C8", Convert.ToHexString(writer.ToArray()[..3]));
        writer = new BerWriter();
        writer.WriteOctetString(new byte[300]);
        Assert.Equal("0482012C", Convert.ToHexString(writer.ToArray()[..4]));
    }

    [Fact]
    public void SNMPv2c_get_request_matches_the_well_known_encoding()
    {
        var pdu = new Pdu(PduType.Get, 1, 0, 0, [new VarBind(ObjectIdentifier.Parse("1.3.6.1.2.1.1.1.0"))]);
        var packet = new CommunityMessage(Encoding.ASCII.GetBytes("public"), pdu).Encode();
        Assert.Equal("302602010104067075626C6963A019020101020100020100300E300C06082B060102010101000500", Convert.ToHexString(packet));
    }

    [Fact]
    public void A_response_with_every_value_type_round_trips()
    {
        var oid = ObjectIdentifier.Parse("1.3.6.1.2.1.1.1.0");
        VarBind[] bindings =
        [
            new(oid, new SnmpValue(SnmpType.Integer, Integer: -42)),
            new(oid, new SnmpValue(SnmpType.OctetString, Bytes: "héllo"u8.ToArray())),
            new(oid, new SnmpValue(SnmpType.ObjectIdentifier, Oid: ObjectIdentifier.Parse("1.3.6.1.4.1.8072.3.2.10"))),
            new(oid, new SnmpValue(SnmpType.IpAddress, Bytes: [127, 0, 0, 1])),
            new(oid, new SnmpValue(SnmpType.Counter32, Unsigned: 3_000_000_000)),
            new(oid, new SnmpValue(SnmpType.Gauge32, Unsigned: 7)),
            new(oid, new SnmpValue(SnmpType.TimeTicks, Unsigned: 123456)),
            new(oid, new SnmpValue(SnmpType.Counter64, Unsigned: ulong.MaxValue - 5)),
            new(oid, new SnmpValue(SnmpType.NoSuchObject)),
            new(oid, new SnmpValue(SnmpType.NoSuchInstance)),
            new(oid, new SnmpValue(SnmpType.EndOfMibView)),
        ];
        var packet = new CommunityMessage("c"u8.ToArray(), new Pdu(PduType.Response, 77, 0, 0, bindings)).Encode();
        var decoded = CommunityMessage.Decode(packet);
        Assert.Equal(77, decoded.Pdu.RequestId);
        Assert.Equal(PduType.Response, decoded.Pdu.Type);
        Assert.Equal(bindings.Select(b => b.Value.AsText()), decoded.Pdu.VarBinds.Select(b => b.Value.AsText()));
        Assert.Equal(bindings.Select(b => b.Value.Type), decoded.Pdu.VarBinds.Select(b => b.Value.Type));
        Assert.True(decoded.Pdu.VarBinds[^1].Value.IsException);
        Assert.Equal("127.0.0.1", decoded.Pdu.VarBinds[3].Value.AsText());
    }

    [Fact]
    public void AES_CFB128_matches_NIST_SP800_38A_including_a_partial_block()
    {
        // SP 800-38A F.3.13 CFB128-AES128; the IV 000102...0F is engineBoots 0x00010203, engineTime 0x04050607, salt 08..0F.
        var key = Convert.FromHexString("2B7E151628AED2A6ABF7158809CF4F3C");
        var salt = Convert.FromHexString("08090A0B0C0D0E0F");
        var plain = Convert.FromHexString("6BC1BEE22E409F96E93D7E117393172AAE2D8A571E");
        var cipher = Usm.Encrypt(key, 0x00010203, 0x04050607, salt, plain);
        Assert.Equal("3B3FD92EB72DAD20333449F8E83CFB4AC8A64537A0", Convert.ToHexString(cipher));
        Assert.Equal(plain, Usm.Decrypt(key, 0x00010203, 0x04050607, salt, cipher));
    }

    [Theory]
    [InlineData(AuthProtocol.Sha1, 12)]
    [InlineData(AuthProtocol.Sha256, 24)]
    public void A_signed_v3_message_verifies_and_a_flipped_bit_does_not(AuthProtocol auth, int macLength)
    {
        var engine = Convert.FromHexString("80001F8880DEADBEEF00000001");
        var keys = Usm.LocalizeKeys(auth, "authpassword", PrivProtocol.Aes128, "privpassword", engine);
        var scoped = new ScopedPdu(engine, [], new Pdu(PduType.Response, 5, 0, 0, [new VarBind(ObjectIdentifier.Parse("1.3.6.1.2.1.1.5.0"), new SnmpValue(SnmpType.OctetString, Bytes: "x"u8.ToArray()))]));
        var salt = Convert.FromHexString("0102030405060708");
        var encrypted = Usm.Encrypt(keys.PrivKey, 3, 1000, salt, scoped.Encode());
        var wrapper = new BerWriter();
        wrapper.WriteOctetString(encrypted);
        var usm = new UsmSecurityParameters(engine, 3, 1000, "user"u8.ToArray(), new byte[macLength], salt);
        var (packet, authOffset) = V3Message.Encode(9, 65507, V3Flags.Auth | V3Flags.Priv, usm, wrapper.ToArray());
        Usm.Sign(keys, packet, authOffset);

        var message = V3Message.Decode(packet);
        Assert.Equal(authOffset, message.AuthParametersOffset);
        Assert.True(Usm.Verify(keys, message));
        var plain = Usm.Decrypt(keys.PrivKey, message.Usm.EngineBoots, message.Usm.EngineTime, message.Usm.PrivParameters, message.EncryptedPdu!);
        Assert.Equal("x", ScopedPdu.Decode(plain).Pdu.VarBinds[0].Value.AsText());

        var tampered = (byte[])packet.Clone();
        tampered[^3] ^= 0x01;
        Assert.False(Usm.Verify(keys, V3Message.Decode(tampered)));
        var otherKeys = Usm.LocalizeKeys(auth, "wrongpassword", PrivProtocol.Aes128, "privpassword", engine);
        Assert.False(Usm.Verify(otherKeys, message));
    }
}
