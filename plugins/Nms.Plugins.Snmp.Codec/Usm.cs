using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Nms.Plugins.Snmp.Codec;

public enum AuthProtocol
{
    None,
    /// <summary>usmHMACMD5AuthProtocol, HMAC-MD5-96 (RFC 3414).</summary>
    Md5,
    /// <summary>usmHMACSHAAuthProtocol, HMAC-SHA-1-96 (RFC 3414).</summary>
    Sha1,
    /// <summary>usmHMAC128SHA224AuthProtocol (RFC 7860).</summary>
    Sha224,
    /// <summary>usmHMAC192SHA256AuthProtocol (RFC 7860).</summary>
    Sha256,
    /// <summary>usmHMAC256SHA384AuthProtocol (RFC 7860).</summary>
    Sha384,
    /// <summary>usmHMAC384SHA512AuthProtocol (RFC 7860).</summary>
    Sha512,
}

public enum PrivProtocol
{
    None,
    /// <summary>usmDESPrivProtocol, CBC-DES (RFC 3414 8).</summary>
    Des,
    /// <summary>usmAesCfb128Protocol (RFC 3826).</summary>
    Aes128,
    /// <summary>AES-192 in CFB128 with the key extension of draft-blumenthal-aes-usm-04 (net-snmp's AES-192).</summary>
    Aes192,
    /// <summary>AES-256 in CFB128 with the key extension of draft-blumenthal-aes-usm-04 (net-snmp's AES-256).</summary>
    Aes256,
}

/// <summary>Keys localised to one engine (RFC 3414 2.6).</summary>
public sealed class UsmKeys
{
    public UsmKeys(AuthProtocol auth, byte[] authKey, PrivProtocol priv, byte[] privKey)
    {
        Auth = auth;
        AuthKey = authKey;
        Priv = priv;
        PrivKey = privKey;
    }

    public AuthProtocol Auth { get; }

    public byte[] AuthKey { get; }

    public PrivProtocol Priv { get; }

    public byte[] PrivKey { get; }

    public override string ToString() => $"UsmKeys {{ {Auth}, {Priv} }}";
}

public static class Usm
{
    public const int SaltLength = 8;

    private const int PasswordExpansion = 1024 * 1024;

    // Expanding a password costs a megabyte of hashing; a batch reuses one credential on many devices.
    private static readonly ConcurrentDictionary<(AuthProtocol, string), byte[]> MasterKeys = new();

    /// <summary>Truncated MAC lengths: 96 bits for MD5 and SHA-1 (RFC 3414), RFC 7860 table 1 for SHA-2.</summary>
    public static int MacLength(AuthProtocol protocol) => protocol switch
    {
        AuthProtocol.Md5 or AuthProtocol.Sha1 => 12,
        AuthProtocol.Sha224 => 16,
        AuthProtocol.Sha256 => 24,
        AuthProtocol.Sha384 => 32,
        AuthProtocol.Sha512 => 48,
        _ => 0,
    };

    public static int PrivKeyLength(PrivProtocol protocol) => protocol switch
    {
        // DES: 8 octets of key, then 8 octets of pre-IV.
        PrivProtocol.Des or PrivProtocol.Aes128 => 16,
        PrivProtocol.Aes192 => 24,
        PrivProtocol.Aes256 => 32,
        _ => 0,
    };

    /// <summary>RFC 3414 A.2: hash a megabyte of the repeated password.</summary>
    public static byte[] PasswordToKey(AuthProtocol protocol, string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(password);
        return MasterKeys.GetOrAdd((protocol, password), static key =>
        {
            var bytes = Encoding.UTF8.GetBytes(key.Item2);
            var expanded = new byte[PasswordExpansion];
            for (var i = 0; i < expanded.Length; i++)
            {
                expanded[i] = bytes[i % bytes.Length];
            }

            return Hash(key.Item1, expanded);
        });
    }

    /// <summary>RFC 3414 2.6: Kul = H(Ku || engineID || Ku).</summary>
    public static byte[] Localize(AuthProtocol protocol, byte[] masterKey, ReadOnlySpan<byte> engineId)
    {
        ArgumentNullException.ThrowIfNull(masterKey);
        var input = new byte[(masterKey.Length * 2) + engineId.Length];
        masterKey.CopyTo(input, 0);
        engineId.CopyTo(input.AsSpan(masterKey.Length));
        masterKey.CopyTo(input, masterKey.Length + engineId.Length);
        return Hash(protocol, input);
    }

    public static UsmKeys LocalizeKeys(AuthProtocol auth, string? authPassword, PrivProtocol priv, string? privPassword, ReadOnlySpan<byte> engineId)
    {
        if (auth == AuthProtocol.None)
        {
            return new UsmKeys(auth, [], PrivProtocol.None, []);
        }

        var authKey = Localize(auth, PasswordToKey(auth, authPassword!), engineId);
        if (priv == PrivProtocol.None)
        {
            return new UsmKeys(auth, authKey, priv, []);
        }

        var privKey = ExtendBlumenthal(auth, Localize(auth, PasswordToKey(auth, privPassword!), engineId), PrivKeyLength(priv));
        return new UsmKeys(auth, authKey, priv, privKey);
    }

    /// <summary>
    /// draft-blumenthal-aes-usm-04 3.1.2.1: while the localised key is shorter than the cipher needs, append
    /// the hash of all of it so far (Kul || H(Kul) || H(Kul || H(Kul)) …), then cut. A key already long enough is
    /// simply cut, which is RFC 3414 (DES) and RFC 3826 (AES-128) too.
    /// </summary>
    public static byte[] ExtendBlumenthal(AuthProtocol auth, byte[] localizedKey, int length)
    {
        ArgumentNullException.ThrowIfNull(localizedKey);
        var key = localizedKey;
        while (key.Length < length)
        {
            key = [.. key, .. Hash(auth, key)];
        }

        return key[..length];
    }

    public static byte[] Hash(AuthProtocol protocol, ReadOnlySpan<byte> data) => protocol switch
    {
        AuthProtocol.Md5 => MD5.HashData(data),
        AuthProtocol.Sha1 => SHA1.HashData(data),
        AuthProtocol.Sha224 => Sha224.HashData(data),
        AuthProtocol.Sha256 => SHA256.HashData(data),
        AuthProtocol.Sha384 => SHA384.HashData(data),
        AuthProtocol.Sha512 => SHA512.HashData(data),
        _ => throw new ArgumentOutOfRangeException(nameof(protocol), "no hash for this protocol"),
    };

    public static byte[] ComputeMac(AuthProtocol protocol, byte[] key, ReadOnlySpan<byte> packet)
    {
        var full = protocol switch
        {
            AuthProtocol.Md5 => HMACMD5.HashData(key, packet),
            AuthProtocol.Sha1 => HMACSHA1.HashData(key, packet),
            AuthProtocol.Sha224 => Sha224.Hmac(key, packet),
            AuthProtocol.Sha256 => HMACSHA256.HashData(key, packet),
            AuthProtocol.Sha384 => HMACSHA384.HashData(key, packet),
            AuthProtocol.Sha512 => HMACSHA512.HashData(key, packet),
            _ => throw new ArgumentOutOfRangeException(nameof(protocol)),
        };
        return full[..MacLength(protocol)];
    }

    /// <summary>Fills the zeroed authentication parameters of an encoded packet with its MAC.</summary>
    public static void Sign(UsmKeys keys, byte[] packet, int authOffset)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(packet);
        var mac = ComputeMac(keys.Auth, keys.AuthKey, packet);
        mac.CopyTo(packet, authOffset);
    }

    public static bool Verify(UsmKeys keys, V3Message message)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(message);
        var length = MacLength(keys.Auth);
        if (length == 0 || message.Usm.AuthParameters.Length != length)
        {
            return false;
        }

        var copy = (byte[])message.Raw.Clone();
        copy.AsSpan(message.AuthParametersOffset, length).Clear();
        var expected = ComputeMac(keys.Auth, keys.AuthKey, copy);
        return CryptographicOperations.FixedTimeEquals(expected, message.Usm.AuthParameters);
    }

    /// <summary>
    /// The privacy parameters for one message: DES takes engineBoots then a local counter (RFC 3414 8.1.1.1),
    /// AES a 64-bit local counter (RFC 3826 3.1.2.1).
    /// </summary>
    public static byte[] Salt(PrivProtocol protocol, int engineBoots, long counter)
    {
        var salt = new byte[SaltLength];
        if (protocol == PrivProtocol.Des)
        {
            BinaryPrimitives.WriteInt32BigEndian(salt, engineBoots);
            BinaryPrimitives.WriteInt32BigEndian(salt.AsSpan(4), (int)counter);
        }
        else
        {
            BinaryPrimitives.WriteInt64BigEndian(salt, counter);
        }

        return salt;
    }

    public static byte[] Encrypt(UsmKeys keys, int engineBoots, int engineTime, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> plaintext)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return keys.Priv == PrivProtocol.Des
            ? EncryptDes(keys.PrivKey, salt, plaintext)
            : Encrypt(keys.PrivKey, engineBoots, engineTime, salt, plaintext);
    }

    public static byte[] Decrypt(UsmKeys keys, int engineBoots, int engineTime, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> ciphertext)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return keys.Priv == PrivProtocol.Des
            ? DecryptDes(keys.PrivKey, salt, ciphertext)
            : Decrypt(keys.PrivKey, engineBoots, engineTime, salt, ciphertext);
    }

    /// <summary>RFC 3826 3.1.2.1: IV = engineBoots || engineTime || salt, AES in 128-bit CFB; the key length picks AES-128/192/256.</summary>
    public static byte[] Encrypt(byte[] privKey, int engineBoots, int engineTime, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> plaintext) =>
        Cfb(privKey, engineBoots, engineTime, salt, plaintext, encrypt: true);

    public static byte[] Decrypt(byte[] privKey, int engineBoots, int engineTime, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> ciphertext)
    {
        CheckSalt(salt);
        return Cfb(privKey, engineBoots, engineTime, salt, ciphertext, encrypt: false);
    }

    /// <summary>RFC 3414 8.1.1.1: DES key = first 8 octets, IV = last 8 octets XOR salt, plaintext padded to 8 octets.</summary>
    public static byte[] EncryptDes(byte[] privKey, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> plaintext)
    {
        var padded = new byte[(plaintext.Length + 7) / 8 * 8];
        plaintext.CopyTo(padded);
        using var des = Des(privKey);
        return des.EncryptCbc(padded, DesIv(privKey, salt), PaddingMode.None);
    }

    /// <summary>RFC 3414 8.1.1.3; the padding stays on the plaintext (the scoped PDU decoder ignores it).</summary>
    public static byte[] DecryptDes(byte[] privKey, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> ciphertext)
    {
        CheckSalt(salt);
        if (ciphertext.Length == 0 || ciphertext.Length % 8 != 0)
        {
            throw new SnmpFormatException("DES ciphertext is not a whole number of 8-octet blocks");
        }

        using var des = Des(privKey);
        return des.DecryptCbc(ciphertext, DesIv(privKey, salt), PaddingMode.None);
    }

    private static void CheckSalt(ReadOnlySpan<byte> salt)
    {
        if (salt.Length != SaltLength)
        {
            throw new SnmpFormatException("privacy parameters must be 8 octets");
        }
    }

    private static DES Des(byte[] privKey)
    {
        ArgumentNullException.ThrowIfNull(privKey);
        var des = DES.Create();
        try
        {
            des.Key = privKey[..8];
            return des;
        }
        catch (CryptographicException ex)
        {
            // .NET refuses the 16 weak and semi-weak DES keys; a localised key is one of them with odds of about 2^-52.
            des.Dispose();
            throw new SnmpException("the localised DES key is a weak DES key: choose another privacy password", ex);
        }
    }

    private static byte[] DesIv(byte[] privKey, ReadOnlySpan<byte> salt)
    {
        var iv = privKey[8..16];
        for (var i = 0; i < iv.Length; i++)
        {
            iv[i] ^= salt[i];
        }

        return iv;
    }

    private static byte[] Cfb(byte[] key, int boots, int time, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> input, bool encrypt)
    {
        Span<byte> iv = stackalloc byte[16];
        BinaryPrimitives.WriteInt32BigEndian(iv, boots);
        BinaryPrimitives.WriteInt32BigEndian(iv[4..], time);
        salt.CopyTo(iv[8..]);
        // CFB needs whole blocks without padding; output byte i depends only on input bytes up to i, so pad and cut.
        var padded = new byte[(input.Length + 15) / 16 * 16];
        input.CopyTo(padded);
        using var aes = Aes.Create();
        aes.Key = key;
        var output = encrypt
            ? aes.EncryptCfb(padded, iv, PaddingMode.None, 128)
            : aes.DecryptCfb(padded, iv, PaddingMode.None, 128);
        return output[..input.Length];
    }
}
