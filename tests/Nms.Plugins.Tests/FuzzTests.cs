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

    private static void DecodeEverything(byte[] packet)
    {
        CommunityMessage.TryDecode(packet, out _, out _);
        V3Message.PeekVersion(packet);
        if (V3Message.TryDecode(packet, out var message, out _))
        {
            var keys = Usm.LocalizeKeys(AuthProtocol.Sha1, "authpassword", PrivProtocol.Aes128, "privpassword", message!.Usm.EngineId);
            Usm.Verify(keys, message);
            if (message.EncryptedPdu is not null)
            {
                try
                {
                    var plain = Usm.Decrypt(keys.PrivKey, message.Usm.EngineBoots, message.Usm.EngineTime, message.Usm.PrivParameters, message.EncryptedPdu);
                    ScopedPdu.Decode(plain);
                }
                catch (SnmpFormatException)
                {
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
        return [v2c, plainV3, privV3];
    }
}
