using System.Buffers.Binary;
using System.Numerics;

namespace Nms.Plugins.Snmp.Codec;

/// <summary>
/// SHA-224 (FIPS 180-4): SHA-256 with other initial values, cut to 28 octets. .NET has no SHA-224 and
/// usmHMAC128SHA224AuthProtocol (RFC 7860) needs it, so the compression function is written here.
/// </summary>
public static class Sha224
{
    public const int HashLength = 28;
    public const int BlockLength = 64;

    private static readonly uint[] Initial =
    [
        0xc1059ed8, 0x367cd507, 0x3070dd17, 0xf70e5939, 0xffc00b31, 0x68581511, 0x64f98fa7, 0xbefa4fa4,
    ];

    private static readonly uint[] K =
    [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];

    public static byte[] HashData(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second = default)
    {
        Span<uint> state = stackalloc uint[8];
        Initial.CopyTo(state);
        Span<uint> w = stackalloc uint[64];
        Span<byte> block = stackalloc byte[BlockLength];
        var total = (long)first.Length + second.Length;
        var filled = 0;
        Absorb(state, block, w, ref filled, first);
        Absorb(state, block, w, ref filled, second);

        block[filled++] = 0x80;
        if (filled > BlockLength - 8)
        {
            block[filled..].Clear();
            Compress(state, block, w);
            filled = 0;
        }

        block[filled..(BlockLength - 8)].Clear();
        BinaryPrimitives.WriteInt64BigEndian(block[(BlockLength - 8)..], total * 8);
        Compress(state, block, w);

        var hash = new byte[HashLength];
        for (var i = 0; i < 7; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(hash.AsSpan(i * 4), state[i]);
        }

        return hash;
    }

    /// <summary>HMAC (RFC 2104) over SHA-224, block size 64.</summary>
    public static byte[] Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> message)
    {
        Span<byte> padded = stackalloc byte[BlockLength];
        padded.Clear();
        (key.Length > BlockLength ? HashData(key) : key).CopyTo(padded);
        Span<byte> inner = stackalloc byte[BlockLength];
        Span<byte> outer = stackalloc byte[BlockLength];
        for (var i = 0; i < BlockLength; i++)
        {
            inner[i] = (byte)(padded[i] ^ 0x36);
            outer[i] = (byte)(padded[i] ^ 0x5c);
        }

        return HashData(outer, HashData(inner, message));
    }

    private static void Absorb(Span<uint> state, Span<byte> block, Span<uint> w, ref int filled, ReadOnlySpan<byte> input)
    {
        while (input.Length > 0)
        {
            var take = Math.Min(BlockLength - filled, input.Length);
            input[..take].CopyTo(block[filled..]);
            filled += take;
            input = input[take..];
            if (filled == BlockLength)
            {
                Compress(state, block, w);
                filled = 0;
            }
        }
    }

    private static void Compress(Span<uint> state, ReadOnlySpan<byte> block, Span<uint> w)
    {
        for (var t = 0; t < 16; t++)
        {
            w[t] = BinaryPrimitives.ReadUInt32BigEndian(block[(t * 4)..]);
        }

        for (var t = 16; t < 64; t++)
        {
            var s0 = BitOperations.RotateRight(w[t - 15], 7) ^ BitOperations.RotateRight(w[t - 15], 18) ^ (w[t - 15] >> 3);
            var s1 = BitOperations.RotateRight(w[t - 2], 17) ^ BitOperations.RotateRight(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }

        uint a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5], g = state[6], h = state[7];
        for (var t = 0; t < 64; t++)
        {
            var sum1 = BitOperations.RotateRight(e, 6) ^ BitOperations.RotateRight(e, 11) ^ BitOperations.RotateRight(e, 25);
            var choose = (e & f) ^ (~e & g);
            var t1 = h + sum1 + choose + K[t] + w[t];
            var sum0 = BitOperations.RotateRight(a, 2) ^ BitOperations.RotateRight(a, 13) ^ BitOperations.RotateRight(a, 22);
            var majority = (a & b) ^ (a & c) ^ (b & c);
            var t2 = sum0 + majority;
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }

        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }
}
