using System.Numerics;

namespace Nms.Core.Metrics;

/// <summary>
/// One series' samples in one block, encoded as in Facebook's Gorilla paper (VLDB 2015): timestamps
/// as delta-of-delta, values as the XOR with the previous value. Timestamps are PostgreSQL's
/// microseconds, so the delta-of-delta buckets are wider than the paper's seconds: polls jitter by
/// milliseconds. Samples must be in time order. A device's series polled together share one
/// timestamps block (format 3) and store only their values (format 2).
/// </summary>
public static class MetricsBlockCodec
{
    private const byte Full = 1;
    private const byte ValuesOnly = 2;
    private const byte TimesOnly = 3;

    /// <summary>Format 1: a series' own timestamps and its values.</summary>
    public static byte[] Encode(ReadOnlySpan<long> micros, ReadOnlySpan<double> values)
    {
        if (micros.Length != values.Length || micros.Length == 0)
        {
            throw new ArgumentException("a block needs one value per timestamp and at least one sample");
        }

        var bits = Header(Full, micros.Length);
        WriteTimes(ref bits, micros);
        WriteValues(ref bits, values);
        return bits.ToArray();
    }

    /// <summary>Format 2: values only, for a series whose timestamps are its device's shared ones (<see cref="EncodeTimes"/>).</summary>
    public static byte[] EncodeValues(ReadOnlySpan<double> values)
    {
        var bits = Header(ValuesOnly, values.Length);
        WriteValues(ref bits, values);
        return bits.ToArray();
    }

    /// <summary>Format 3: the timestamps a device's series share in a window (metric_block_times).</summary>
    public static byte[] EncodeTimes(ReadOnlySpan<long> micros)
    {
        var bits = Header(TimesOnly, micros.Length);
        WriteTimes(ref bits, micros);
        return bits.ToArray();
    }

    /// <summary>A block of format 1, or of format 2 with its device's shared times (format 3).</summary>
    public static (long[] Micros, double[] Values) Decode(ReadOnlySpan<byte> data, ReadOnlySpan<byte> sharedTimes = default)
    {
        var bits = new BitReader(data);
        var (format, count) = ReadHeader(ref bits);
        long[] micros;
        if (format == Full)
        {
            micros = ReadTimes(ref bits, count);
        }
        else if (format == ValuesOnly && !sharedTimes.IsEmpty)
        {
            micros = DecodeTimes(sharedTimes);
            if (micros.Length != count)
            {
                throw new InvalidDataException("a values-only metrics block does not match its shared times");
            }
        }
        else
        {
            throw new InvalidDataException(format == ValuesOnly ? "a values-only metrics block needs its shared times" : "unknown metrics block format");
        }

        return (micros, ReadValues(ref bits, count));
    }

    /// <summary>A values-only block (format 2) on its own, for columns that have no timestamps of their own (rollup blocks).</summary>
    public static double[] DecodeValues(ReadOnlySpan<byte> data)
    {
        var bits = new BitReader(data);
        var (format, count) = ReadHeader(ref bits);
        return format == ValuesOnly ? ReadValues(ref bits, count) : throw new InvalidDataException("not a metrics values block");
    }

    public static long[] DecodeTimes(ReadOnlySpan<byte> data)
    {
        var bits = new BitReader(data);
        var (format, count) = ReadHeader(ref bits);
        return format == TimesOnly ? ReadTimes(ref bits, count) : throw new InvalidDataException("not a metrics times block");
    }

    private static BitWriter Header(byte format, int count)
    {
        var bits = new BitWriter(16 + count * 3);
        bits.Write(format, 8);
        bits.Write((ulong)count, 32);
        return bits;
    }

    private static (byte Format, int Count) ReadHeader(ref BitReader bits) => ((byte)bits.Read(8), (int)bits.Read(32));

    private static void WriteTimes(ref BitWriter bits, ReadOnlySpan<long> micros)
    {
        bits.Write((ulong)micros[0], 64);
        long previousDelta = 0;
        for (var i = 1; i < micros.Length; i++)
        {
            var delta = micros[i] - micros[i - 1];
            WriteDeltaOfDelta(ref bits, delta - previousDelta);
            previousDelta = delta;
        }
    }

    private static long[] ReadTimes(ref BitReader bits, int count)
    {
        var micros = new long[count];
        micros[0] = (long)bits.Read(64);
        long delta = 0;
        for (var i = 1; i < count; i++)
        {
            delta += ReadDeltaOfDelta(ref bits);
            micros[i] = micros[i - 1] + delta;
        }

        return micros;
    }

    private static void WriteValues(ref BitWriter bits, ReadOnlySpan<double> values)
    {
        var previous = BitConverter.DoubleToUInt64Bits(values[0]);
        bits.Write(previous, 64);
        int leading = -1, trailing = 0;
        for (var i = 1; i < values.Length; i++)
        {
            var current = BitConverter.DoubleToUInt64Bits(values[i]);
            WriteXor(ref bits, current ^ previous, ref leading, ref trailing);
            previous = current;
        }
    }

    private static double[] ReadValues(ref BitReader bits, int count)
    {
        var values = new double[count];
        var value = bits.Read(64);
        values[0] = BitConverter.UInt64BitsToDouble(value);
        int leading = 0, length = 0;
        for (var i = 1; i < count; i++)
        {
            if (bits.Read(1) == 1)
            {
                if (bits.Read(1) == 1)
                {
                    leading = (int)bits.Read(6);
                    length = (int)bits.Read(6) + 1;
                }

                value ^= bits.Read(length) << (64 - leading - length);
            }

            values[i] = BitConverter.UInt64BitsToDouble(value);
        }

        return values;
    }

    // Buckets: 0; +-8 ms; +-0.5 s; +-35 min; anything.
    private static void WriteDeltaOfDelta(ref BitWriter bits, long dod)
    {
        if (dod == 0)
        {
            bits.Write(0, 1);
        }
        else if (Fits(dod, 14))
        {
            bits.Write(0b10, 2);
            bits.Write((ulong)dod, 14);
        }
        else if (Fits(dod, 20))
        {
            bits.Write(0b110, 3);
            bits.Write((ulong)dod, 20);
        }
        else if (Fits(dod, 32))
        {
            bits.Write(0b1110, 4);
            bits.Write((ulong)dod, 32);
        }
        else
        {
            bits.Write(0b1111, 4);
            bits.Write((ulong)dod, 64);
        }
    }

    private static long ReadDeltaOfDelta(ref BitReader bits)
    {
        if (bits.Read(1) == 0)
        {
            return 0;
        }

        var width = bits.Read(1) == 0 ? 14 : bits.Read(1) == 0 ? 20 : bits.Read(1) == 0 ? 32 : 64;
        return SignExtend(bits.Read(width), width);
    }

    private static void WriteXor(ref BitWriter bits, ulong xor, ref int leading, ref int trailing)
    {
        if (xor == 0)
        {
            bits.Write(0, 1);
            return;
        }

        var lz = Math.Min(BitOperations.LeadingZeroCount(xor), 63);
        var tz = BitOperations.TrailingZeroCount(xor);
        if (leading >= 0 && lz >= leading && tz >= trailing)
        {
            // Fits the previous meaningful window: '10' + those bits.
            bits.Write(0b10, 2);
            bits.Write(xor >> trailing, 64 - leading - trailing);
            return;
        }

        leading = lz;
        trailing = tz;
        var length = 64 - lz - tz;
        bits.Write(0b11, 2);
        bits.Write((ulong)lz, 6);
        bits.Write((ulong)(length - 1), 6);
        bits.Write(xor >> tz, length);
    }

    private static bool Fits(long value, int width) => value >= -(1L << (width - 1)) && value < 1L << (width - 1);

    private static long SignExtend(ulong value, int width) => width == 64 ? (long)value : (long)(value << (64 - width)) >> (64 - width);

    private struct BitWriter(int capacity)
    {
        private byte[] buffer = new byte[Math.Max(16, capacity)];
        private int bitLength;

        /// <summary>Appends the low <paramref name="count"/> bits of <paramref name="value"/>, most significant first.</summary>
        public void Write(ulong value, int count)
        {
            while (count > 0)
            {
                var index = bitLength >> 3;
                if (index >= buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                var free = 8 - (bitLength & 7);
                var take = Math.Min(free, count);
                var chunk = (byte)((value >> (count - take)) & ((1u << take) - 1));
                buffer[index] |= (byte)(chunk << (free - take));
                bitLength += take;
                count -= take;
            }
        }

        public readonly byte[] ToArray() => buffer.AsSpan(0, (bitLength + 7) >> 3).ToArray();
    }

    private ref struct BitReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> data = data;
        private int position;

        public ulong Read(int count)
        {
            ulong result = 0;
            while (count > 0)
            {
                var index = position >> 3;
                if (index >= data.Length)
                {
                    throw new InvalidDataException("metrics block ends early");
                }

                var available = 8 - (position & 7);
                var take = Math.Min(available, count);
                var chunk = (ulong)(data[index] >> (available - take)) & ((1UL << take) - 1);
                result = (result << take) | chunk;
                position += take;
                count -= take;
            }

            return result;
        }
    }
}
