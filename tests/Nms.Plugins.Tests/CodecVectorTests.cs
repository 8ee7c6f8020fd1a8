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
    public void Password_to_key_with_MD5_matches_RFC3414_A_3_1()
    {
        var ku = Usm.PasswordToKey(AuthProtocol.Md5, "maplesyrup");
        Assert.Equal("9FAF3283884E92834EBC9847D8EDD963", Convert.ToHexString(ku));
        Assert.Equal("526F5EED9FCCE26F8964C2930787D82B", Convert.ToHexString(Usm.Localize(AuthProtocol.Md5, ku, Rfc3414EngineId)));
    }

    [Theory]
    // RFC 7860 gives no vectors: these were worked out independently with Python hashlib, as for SHA-256 above.
    [InlineData(AuthProtocol.Sha224, "282A5867EE9AAC639AD59DF9572C7D3AC0FBC13A905B6DF07DBBF00B", "0BD8827C6E29F8065E08E09237F177E410F69B90E1782BE682075674")]
    [InlineData(AuthProtocol.Sha384, "E06ECCDF2C68A06ED034723C9C26E0DB3B669E1E2EFED49150B55377A2E98F383C86FB836857444654B287C93F51FF64",
        "3B298F16164A11184279D5432BF169E2D2A48307DE02B3D3F7E2B4F36EB6F0455A53689A3937EEA07319A633D2CCBA78")]
    [InlineData(AuthProtocol.Sha512, "7E4396DE5AADC77BE853819B98C9406265B3A9C37CC3176569847A4E4F6FBA63DD3A73D04924D31A63F95A601F9385AF6BE4ED1B37F87D040F7C6ED6F8D38A91",
        "22A5A36CEDFCC085807A128D7BC6C2382167AD6C0DBC5FDFF856740F3D84C099AD1EA87A8DB096714D9788BD544047C9021E4229CE27E4C0A69250ADFCFFBB0B")]
    public void Password_to_key_with_the_other_SHA2_hashes_localises_as_RFC7860_prescribes(AuthProtocol auth, string ku, string kul)
    {
        var master = Usm.PasswordToKey(auth, "maplesyrup");
        Assert.Equal(ku, Convert.ToHexString(master));
        Assert.Equal(kul, Convert.ToHexString(Usm.Localize(auth, master, Rfc3414EngineId)));
    }

    [Fact]
    public void SHA224_matches_FIPS_180_and_HMAC_SHA224_matches_RFC4231()
    {
        Assert.Equal("23097D223405D8228642A477BDA255B32AADBCE4BDA0B3F7E36C9DA7", Convert.ToHexString(Sha224.HashData("abc"u8)));
        Assert.Equal("20794655980C91D8BBB4C1EA97618A4BF03F42581948B2EE4EE7AD67", Convert.ToHexString(Sha224.HashData(new byte[1_000_000].Select(_ => (byte)'a').ToArray())));
        Assert.Equal("D14A028C2A3A2BC9476102BB288234C415A2B01F828EA62AC5B3E42F", Convert.ToHexString(Sha224.HashData([])));
        // RFC 4231 test cases 1 and 6 (a key longer than the block is hashed first).
        Assert.Equal("896FB1128ABBDF196832107CD49DF33F47B4B1169912BA4F53684B22", Convert.ToHexString(Sha224.Hmac(Enumerable.Repeat((byte)0x0b, 20).ToArray(), "Hi There"u8)));
        Assert.Equal("95E9A0DB962095ADAEBE9B2D6F0DBCE2D499F112F2D2B7273FA6870E",
            Convert.ToHexString(Sha224.Hmac(Enumerable.Repeat((byte)0xaa, 131).ToArray(), "Test Using Larger Than Block-Size Key - Hash Key First"u8)));
    }

    [Theory]
    [InlineData(AuthProtocol.Md5, 12)]
    [InlineData(AuthProtocol.Sha1, 12)]
    [InlineData(AuthProtocol.Sha224, 16)]
    [InlineData(AuthProtocol.Sha256, 24)]
    [InlineData(AuthProtocol.Sha384, 32)]
    [InlineData(AuthProtocol.Sha512, 48)]
    public void MACs_are_truncated_as_RFC3414_and_RFC7860_say(AuthProtocol auth, int length) => Assert.Equal(length, Usm.MacLength(auth));

    [Theory]
    // Blumenthal: Kul || H(Kul) || …, cut; worked out with Python hashlib from the RFC 3414 A.3 keys.
    [InlineData(AuthProtocol.Md5, PrivProtocol.Aes256, "526F5EED9FCCE26F8964C2930787D82BFA24A92467426C2F4B09192BE10DFAEC")]
    [InlineData(AuthProtocol.Md5, PrivProtocol.Aes192, "526F5EED9FCCE26F8964C2930787D82BFA24A92467426C2F")]
    [InlineData(AuthProtocol.Sha1, PrivProtocol.Aes256, "6695FEBC9288E36282235FC7151F128497B38F3F505E07EB9AF25568FA1F5DBE")]
    [InlineData(AuthProtocol.Sha1, PrivProtocol.Des, "6695FEBC9288E36282235FC7151F1284")]
    public void AES_192_and_256_keys_are_extended_as_draft_blumenthal_aes_usm_says(AuthProtocol auth, PrivProtocol priv, string key)
    {
        var keys = Usm.LocalizeKeys(auth, "maplesyrup", priv, "maplesyrup", Rfc3414EngineId);
        Assert.Equal(key, Convert.ToHexString(keys.PrivKey));
    }

    [Fact]
    public void DES_CBC_matches_FIPS_81_and_round_trips_with_the_pre_IV_and_salt()
    {
        // FIPS 81 appendix C: key 0123456789ABCDEF, IV 1234567890ABCDEF, "Now is the time for all " in CBC.
        // Here the IV is the pre-IV (last 8 key octets) XOR the salt: pre-IV 1234567890ABCDEF, salt zero.
        var key = Convert.FromHexString("0123456789ABCDEF1234567890ABCDEF");
        var plain = "Now is the time for all "u8.ToArray();
        var cipher = Usm.EncryptDes(key, new byte[8], plain);
        Assert.Equal("E5C7CDDE872BF27C43E934008C389C0F683788499A7C05F6", Convert.ToHexString(cipher));
        var salt = Usm.Salt(PrivProtocol.Des, 7, 42);
        Assert.Equal("000000070000002A", Convert.ToHexString(salt));
        var odd = Usm.EncryptDes(key, salt, plain[..13]);
        Assert.Equal(16, odd.Length);
        Assert.Equal(plain[..13], Usm.DecryptDes(key, salt, odd)[..13]);
        Assert.Throws<SnmpFormatException>(() => Usm.DecryptDes(key, salt, odd[..15]));
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
    [InlineData(AuthProtocol.Md5, PrivProtocol.Des, 12)]
    [InlineData(AuthProtocol.Sha1, PrivProtocol.Aes128, 12)]
    [InlineData(AuthProtocol.Sha224, PrivProtocol.Aes192, 16)]
    [InlineData(AuthProtocol.Sha256, PrivProtocol.Aes128, 24)]
    [InlineData(AuthProtocol.Sha384, PrivProtocol.Aes256, 32)]
    [InlineData(AuthProtocol.Sha512, PrivProtocol.Aes256, 48)]
    public void A_signed_v3_message_verifies_and_a_flipped_bit_does_not(AuthProtocol auth, PrivProtocol priv, int macLength)
    {
        var engine = Convert.FromHexString("80001F8880DEADBEEF00000001");
        var keys = Usm.LocalizeKeys(auth, "authpassword", priv, "privpassword", engine);
        var scoped = new ScopedPdu(engine, [], new Pdu(PduType.Response, 5, 0, 0, [new VarBind(ObjectIdentifier.Parse("1.3.6.1.2.1.1.5.0"), new SnmpValue(SnmpType.OctetString, Bytes: "x"u8.ToArray()))]));
        var salt = Convert.FromHexString("0102030405060708");
        var encrypted = Usm.Encrypt(keys, 3, 1000, salt, scoped.Encode());
        var wrapper = new BerWriter();
        wrapper.WriteOctetString(encrypted);
        var usm = new UsmSecurityParameters(engine, 3, 1000, "user"u8.ToArray(), new byte[macLength], salt);
        var (packet, authOffset) = V3Message.Encode(9, 65507, V3Flags.Auth | V3Flags.Priv, usm, wrapper.ToArray());
        Usm.Sign(keys, packet, authOffset);

        var message = V3Message.Decode(packet);
        Assert.Equal(authOffset, message.AuthParametersOffset);
        Assert.True(Usm.Verify(keys, message));
        var plain = Usm.Decrypt(keys, message.Usm.EngineBoots, message.Usm.EngineTime, message.Usm.PrivParameters, message.EncryptedPdu!);
        Assert.Equal("x", ScopedPdu.Decode(plain).Pdu.VarBinds[0].Value.AsText());

        var tampered = (byte[])packet.Clone();
        tampered[^3] ^= 0x01;
        Assert.False(Usm.Verify(keys, V3Message.Decode(tampered)));
        var otherKeys = Usm.LocalizeKeys(auth, "wrongpassword", priv, "privpassword", engine);
        Assert.False(Usm.Verify(otherKeys, message));
    }
}
