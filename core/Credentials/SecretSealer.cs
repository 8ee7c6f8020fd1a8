using System.Security.Cryptography;
using System.Text;
using Nms.Core.Configuration;

namespace Nms.Core.Credentials;

/// <summary>
/// AES-256-GCM for credential secrets at rest. Each sealed value is stored with the id of the key
/// that sealed it, so a rotated-out key keeps opening old rows while new ones use the active key.
/// Layout: nonce (12) | tag (16) | ciphertext.
/// </summary>
public sealed class SecretSealer
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private static readonly byte[] AssociatedData = Encoding.ASCII.GetBytes("nms-secret-v1");

    private readonly Dictionary<string, byte[]> keys;
    private readonly string activeKeyId;

    public SecretSealer(CryptoOptions options)
    {
        keys = options.Keys
            .Where(pair => !string.IsNullOrWhiteSpace(pair.Value))
            .ToDictionary(pair => pair.Key, pair => DecodeKey(pair.Key, pair.Value), StringComparer.Ordinal);
        activeKeyId = options.ActiveKeyId;
        if (!keys.ContainsKey(activeKeyId))
        {
            throw new InvalidOperationException(
                $"Nms:Crypto:ActiveKeyId '{activeKeyId}' has no key in Nms:Crypto:Keys (env Nms__Crypto__Keys__{activeKeyId}).");
        }
    }

    public string ActiveKeyId => activeKeyId;

    /// <summary>Every key id this sealer can open (the active one and the rotated-out ones still configured).</summary>
    public IReadOnlyCollection<string> KeyIds => keys.Keys;

    public SealedSecret Seal(ReadOnlySpan<byte> plaintext)
    {
        var sealedBytes = new byte[NonceSize + TagSize + plaintext.Length];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(keys[activeKeyId], TagSize);
        aes.Encrypt(nonce, plaintext, sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize), AssociatedData);
        return new SealedSecret(activeKeyId, sealedBytes);
    }

    public byte[] Open(SealedSecret secret)
    {
        if (!keys.TryGetValue(secret.KeyId, out var key))
        {
            throw new InvalidOperationException($"No key '{secret.KeyId}' in Nms:Crypto:Keys: a rotated-out key was removed while rows still use it.");
        }

        var data = secret.Ciphertext;
        if (data.Length < NonceSize + TagSize)
        {
            throw new CryptographicException("Sealed secret is truncated.");
        }

        var plaintext = new byte[data.Length - NonceSize - TagSize];
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(data.AsSpan(0, NonceSize), data.AsSpan(NonceSize + TagSize), data.AsSpan(NonceSize, TagSize), plaintext, AssociatedData);
        return plaintext;
    }

    private static byte[] DecodeKey(string id, string base64)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"Nms:Crypto:Keys:{id} is not base64.");
        }

        return key.Length == 32 ? key : throw new InvalidOperationException($"Nms:Crypto:Keys:{id} must be 32 bytes (AES-256), found {key.Length}.");
    }
}

public sealed record SealedSecret(string KeyId, byte[] Ciphertext);
