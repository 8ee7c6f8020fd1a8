using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Nms.Plugins.Snmp.Codec;

public enum AuthProtocol
{
    None,
    /// <summary>usmHMACSHAAuthProtocol, HMAC-SHA-1-96 (RFC 3414).</summary>
    Sha1,
    /// <summary>usmHMAC192SHA256AuthProtocol, HMAC-SHA-256-192 (RFC 7860).</summary>
    Sha256,
}

public enum PrivProtocol
{
    None,
    /// <summary>usmAesCfb128Protocol (RFC 3826).</summary>
    Aes128,
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

    public static int MacLength(AuthProtocol protocol) => protocol switch
    {
        AuthProtocol.Sha1 => 12,
        AuthProtocol.Sha256 => 24,
        _ => 0,
    };

    /// <summary>RFC 3414 A.2: hash a megabyte of the repeated password.</summary>
    public static byte[] PasswordToKey(AuthProtocol protocol, string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(password);
        return MasterKeys.GetOrAdd((protocol, password), static key =>
        {
            var bytes = Encoding.UTF8.GetBytes(key.Item2);
            using var hash = IncrementalHash.CreateHash(HashName(key.Item1));
            var block = new byte[64];
            var position = 0;
            for (var done = 0; done < PasswordExpansion; done += block.Length)
            {
                for (var i = 0; i < block.Length; i++)
                {
                    block[i] = bytes[position++ % bytes.Length];
                }

                position %= bytes.Length;
                hash.AppendData(block);
            }

            return hash.GetHashAndReset();
        });
    }

    /// <summary>RFC 3414 2.6: Kul = H(Ku || engineID || Ku).</summary>
    public static byte[] Localize(AuthProtocol protocol, byte[] masterKey, ReadOnlySpan<byte> engineId)
    {
        ArgumentNullException.ThrowIfNull(masterKey);
        using var hash = IncrementalHash.CreateHash(HashName(protocol));
        hash.AppendData(masterKey);
        hash.AppendData(engineId);
        hash.AppendData(masterKey);
        return hash.GetHashAndReset();
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

        // RFC 3826 3.1.2.1: the AES key is the first 16 octets of the privacy password localised with the auth hash.
        var privKey = Localize(auth, PasswordToKey(auth, privPassword!), engineId)[..16];
        return new UsmKeys(auth, authKey, priv, privKey);
    }

    public static byte[] ComputeMac(AuthProtocol protocol, byte[] key, ReadOnlySpan<byte> packet)
    {
        var full = protocol switch
        {
            AuthProtocol.Sha1 => HMACSHA1.HashData(key, packet),
            AuthProtocol.Sha256 => HMACSHA256.HashData(key, packet),
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

    /// <summary>RFC 3826 3.1.2.1: IV = engineBoots || engineTime || salt, AES-128 in 128-bit CFB.</summary>
    public static byte[] Encrypt(byte[] privKey, int engineBoots, int engineTime, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> plaintext) =>
        Cfb(privKey, engineBoots, engineTime, salt, plaintext, encrypt: true);

    public static byte[] Decrypt(byte[] privKey, int engineBoots, int engineTime, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> ciphertext)
    {
        if (salt.Length != SaltLength)
        {
            throw new SnmpFormatException("privacy parameters must be 8 octets");
        }

        return Cfb(privKey, engineBoots, engineTime, salt, ciphertext, encrypt: false);
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

    private static HashAlgorithmName HashName(AuthProtocol protocol) => protocol switch
    {
        AuthProtocol.Sha1 => HashAlgorithmName.SHA1,
        AuthProtocol.Sha256 => HashAlgorithmName.SHA256,
        _ => throw new ArgumentOutOfRangeException(nameof(protocol), "no hash for this protocol"),
    };
}
