using System.Text;
using Nms.Plugins.Snmp.Codec;
using Xunit;

namespace Nms.Plugins.Tests;

/// <summary>Random, truncated and bit-flipped packets: the decoders answer false or SnmpFormatException, never anything else.</summary>
public sealed class FuzzTests
{
    private static readonly byte[][] Seeds = BuildSeeds();

    [Fact]
    public void Random_bytes_never_escape_as_an_exception()
    {
        var random = new Random(20261127);
        for (var i = 0; i < 20_000; i++)
        {
            var packet = new byte[random.Next(0, 200)];
            random.NextBytes(packet);
            if (packet.Length > 0 && random.Next(2) == 0)
            {
                packet[0] = 0x30;
            }

            DecodeEverything(packet);
        }
    }

    [Fact]
    public void Every_truncation_of_valid_packets_is_rejected_cleanly()
    {
        foreach (var seed in Seeds)
        {
            for (var length = 0; length < seed.Length; length++)
            {
                var truncated = seed[..length];
                Assert.False(CommunityMessage.TryDecode(truncated, out _, out _));
                Assert.False(V3Message.TryDecode(truncated, out _, out _));
                DecodeEverything(truncated);
            }
        }
    }

    [Fact]
    public void Bit_flips_in_valid_packets_never_escape_as_an_exception()
    {
        var random = new Random(3414);
        foreach (var seed in Seeds)
        {
            for (var i = 0; i < 4_000; i++)
            {
                var packet = (byte[])seed.Clone();
                var flips = random.Next(1, 4);
                for (var f = 0; f < flips; f++)
                {
                    packet[random.Next(packet.Length)] ^= (byte)(1 << random.Next(8));
                }

                DecodeEverything(packet);
            }
        }
    }

    [Fact]
    public void Valid_seeds_of_every_shape_decode_and_decrypt()
    {
        foreach (var seed in Seeds)
        {
            Assert.True(CommunityMessage.TryDecode(seed, out _, out _) || V3Message.TryDecode(seed, out _, out _), Convert.ToHexString(seed));
        }

        Assert.Equal(CommunityVersion.V1, CommunityMessage.Decode(Seeds[1]).Version);
        Assert.Equal(PduType.Report, V3Message.Decode(Seeds[4]).Scoped!.Pdu.Type);
    }

    [Fact]
    public void Oversized_packets_and_v2_only_pdus_in_v1_are_rejected_cleanly()
    {
        // A 64 KiB datagram of nested sequences, a varbind list of 10,000 entries and a GETBULK inside an SNMPv1 message.
        var deep = new BerWriter();
        var marks = Enumerable.Range(0, 2000).Select(_ => deep.Begin()).ToArray();
        foreach (var mark in marks.Reverse())
        {
            deep.End(mark, BerTag.Sequence);
        }

        DecodeEverything(deep.ToArray());
        var many = new Pdu(PduType.Response, 1, 0, 0, Enumerable.Range(0, 10_000).Select(i => new VarBind(ObjectIdentifier.Parse($"1.3.6.1.{i}"), SnmpValue.Null)).ToArray());
        var big = new CommunityMessage("c"u8.ToArray(), many).Encode();
        Assert.True(big.Length > 60_000);
        DecodeEverything(big);
        var bulkInV1 = new CommunityMessage("c"u8.ToArray(), new Pdu(PduType.GetBulk, 1, 0, 10, []), CommunityVersion.V1).Encode();
        Assert.False(CommunityMessage.TryDecode(bulkInV1, out _, out var error));
        Assert.Contains("not an SNMPv1 PDU", error, StringComparison.Ordinal);
        var trapV1 = Convert.FromHexString("3010020100040170A4090601000401000201");
        Assert.False(CommunityMessage.TryDecode(trapV1, out _, out _));
    }

    [Fact]
    public void Hostile_lengths_are_rejected()
    {
        // A sequence claiming 2 GiB, an indefinite length, a 5-octet length, and an OID subidentifier over 32 bits.
        foreach (var hex in new[] { "30847FFFFFFF020101", "3080020101", "3085FFFFFFFFFF", "3009020101040170A002068F", "300D02010104017006068FFFFFFFFF7F" })
        {
            var packet = Convert.FromHexString(hex);
            Assert.False(CommunityMessage.TryDecode(packet, out _, out var error));
            Assert.False(string.IsNullOrEmpty(error));
            DecodeEverything(packet);
        }
    }

    private static readonly (AuthProtocol Auth, PrivProtocol Priv)[] KeyShapes =
        [(AuthProtocol.Sha1, PrivProtocol.Aes128), (AuthProtocol.Md5, PrivProtocol.Des), (AuthProtocol.Sha512, PrivProtocol.Aes256)];

    private static void DecodeEverything(byte[] packet)
    {
        CommunityMessage.TryDecode(packet, out _, out _);
        V3Message.PeekVersion(packet);
        if (V3Message.TryDecode(packet, out var message, out _))
        {
            foreach (var (auth, priv) in KeyShapes)
            {
                var keys = Usm.LocalizeKeys(auth, "authpassword", priv, "privpassword", message!.Usm.EngineId);
                Usm.Verify(keys, message);
                if (message.EncryptedPdu is not null)
                {
                    try
                    {
                        var plain = Usm.Decrypt(keys, message.Usm.EngineBoots, message.Usm.EngineTime, message.Usm.PrivParameters, message.EncryptedPdu);
                        ScopedPdu.Decode(plain);
                    }
                    catch (SnmpFormatException)
                    {
                    }
                }
            }
        }

        try
        {
            ScopedPdu.Decode(packet);
        }
        catch (SnmpFormatException)
        {
        }
    }

    private static byte[][] BuildSeeds()
    {
        var oid = ObjectIdentifier.Parse("1.3.6.1.2.1.31.1.1.1.6.2");
        var response = new Pdu(PduType.Response, 1234567, 0, 0,
        [
            new VarBind(oid, new SnmpValue(SnmpType.Counter64, Unsigned: 9_876_543_210)),
            new VarBind(ObjectIdentifier.Parse("1.3.6.1.2.1.1.5.0"), new SnmpValue(SnmpType.OctetString, Bytes: Encoding.ASCII.GetBytes("router-1"))),
            new VarBind(ObjectIdentifier.Parse("1.3.6.1.2.1.1.2.0"), new SnmpValue(SnmpType.ObjectIdentifier, Oid: ObjectIdentifier.Parse("1.3.6.1.4.1.8072.3.2.10"))),
            new VarBind(ObjectIdentifier.Parse("1.3.6.1.2.1.1.3.0"), new SnmpValue(SnmpType.TimeTicks, Unsigned: 4242)),
            new VarBind(oid, new SnmpValue(SnmpType.EndOfMibView)),
        ]);
        var v2c = new CommunityMessage(Encoding.ASCII.GetBytes("public"), response).Encode();

        var engine = Convert.FromHexString("80001F8880DEADBEEF00000001");
        var keys = Usm.LocalizeKeys(AuthProtocol.Sha1, "authpassword", PrivProtocol.Aes128, "privpassword", engine);
        var scoped = new ScopedPdu(engine, [], response).Encode();
        var (plainV3, plainOffset) = V3Message.Encode(42, 65507, V3Flags.Auth, new UsmSecurityParameters(engine, 1, 100, "user"u8.ToArray(), new byte[12], []), scoped);
        Usm.Sign(keys, plainV3, plainOffset);

        var salt = new byte[8];
        var wrapper = new BerWriter();
        wrapper.WriteOctetString(Usm.Encrypt(keys.PrivKey, 1, 100, salt, scoped));
        var (privV3, privOffset) = V3Message.Encode(43, 65507, V3Flags.Auth | V3Flags.Priv, new UsmSecurityParameters(engine, 1, 100, "user"u8.ToArray(), new byte[12], salt), wrapper.ToArray());
        Usm.Sign(keys, privV3, privOffset);

        var v1 = new CommunityMessage(Encoding.ASCII.GetBytes("public"), response with { ErrorStatus = 2, ErrorIndex = 1 }, CommunityVersion.V1).Encode();
        var report = new Pdu(PduType.Report, 0, 0, 0, [new VarBind(ObjectIdentifier.Parse("1.3.6.1.6.3.15.1.1.4.0"), new SnmpValue(SnmpType.Counter32, Unsigned: 7))]);
        var (reportV3, _) = V3Message.Encode(44, 65507, V3Flags.None, new UsmSecurityParameters(engine, 3, 12345, [], [], []), new ScopedPdu(engine, [], report).Encode());
        return [v2c, v1, plainV3, privV3, reportV3, Encrypted(AuthProtocol.Md5, PrivProtocol.Des, 12), Encrypted(AuthProtocol.Sha512, PrivProtocol.Aes256, 48)];

        byte[] Encrypted(AuthProtocol auth, PrivProtocol priv, int macLength)
        {
            var shapeKeys = Usm.LocalizeKeys(auth, "authpassword", priv, "privpassword", engine);
            var shapeSalt = Usm.Salt(priv, 1, 99);
            var cipher = new BerWriter();
            cipher.WriteOctetString(Usm.Encrypt(shapeKeys, 1, 100, shapeSalt, scoped));
            var (packet, offset) = V3Message.Encode(45, 65507, V3Flags.Auth | V3Flags.Priv,
                new UsmSecurityParameters(engine, 1, 100, "user"u8.ToArray(), new byte[macLength], shapeSalt), cipher.ToArray());
            Usm.Sign(shapeKeys, packet, offset);
            return packet;
        }
    }
}
