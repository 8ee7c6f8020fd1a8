namespace Nms.Core.Metrics;

/// <summary>One rollup bucket: its start and aggregates (050_metrics_v2.sql); no increase before a series' first interval.</summary>
public readonly record struct RollupBucket(long Micros, long Count, double Min, double Max, double Sum, double Last, double? Increase, double? Seconds);

/// <summary>
/// A span of one series' rollup buckets (metric_rollup_blocks_5m/_1h, 090) as eight Gorilla-encoded
/// columns (<see cref="MetricsBlockCodec"/>): bucket starts as delta-of-delta (regular buckets cost a
/// bit each), then count, min, max, sum, last, increase and its seconds as XOR-encoded floats. Each
/// column is length-prefixed, so a reader could skip the ones it does not need. A missing increase
/// (a series' first bucket) is stored as a NaN with its own payload, distinct from any NaN a device sends.
/// </summary>
public static class MetricsRollupCodec
{
    private const byte Version = 1;
    private const int Columns = 8;
    private static readonly double Missing = BitConverter.UInt64BitsToDouble(0x7FF4_0000_4E4D_5300);

    /// <summary>Buckets in time order, at least one.</summary>
    public static byte[] Encode(IReadOnlyList<RollupBucket> buckets)
    {
        if (buckets.Count == 0)
        {
            throw new ArgumentException("a rollup block needs at least one bucket", nameof(buckets));
        }

        var columns = new byte[Columns][];
        columns[0] = MetricsBlockCodec.EncodeTimes(buckets.Select(b => b.Micros).ToArray());
        columns[1] = Values(buckets, b => b.Count);
        columns[2] = Values(buckets, b => b.Min);
        columns[3] = Values(buckets, b => b.Max);
        columns[4] = Values(buckets, b => b.Sum);
        columns[5] = Values(buckets, b => b.Last);
        columns[6] = Values(buckets, b => b.Increase ?? Missing);
        columns[7] = Values(buckets, b => b.Seconds ?? Missing);

        using var output = new MemoryStream(columns.Sum(c => c.Length + 3) + 1);
        output.WriteByte(Version);
        foreach (var column in columns)
        {
            WriteLength(output, column.Length);
            output.Write(column);
        }

        return output.ToArray();
    }

    public static RollupBucket[] Decode(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty || data[0] != Version)
        {
            throw new InvalidDataException("unknown rollup block format");
        }

        var position = 1;
        var micros = MetricsBlockCodec.DecodeTimes(Next(data, ref position));
        var values = new double[Columns - 1][];
        for (var c = 0; c < values.Length; c++)
        {
            values[c] = MetricsBlockCodec.DecodeValues(Next(data, ref position));
            if (values[c].Length != micros.Length)
            {
                throw new InvalidDataException("a rollup block's columns differ in length");
            }
        }

        var buckets = new RollupBucket[micros.Length];
        for (var i = 0; i < buckets.Length; i++)
        {
            buckets[i] = new RollupBucket(micros[i], (long)values[0][i], values[1][i], values[2][i], values[3][i], values[4][i], Present(values[5][i]), Present(values[6][i]));
        }

        return buckets;
    }

    private static byte[] Values(IReadOnlyList<RollupBucket> buckets, Func<RollupBucket, double> column) =>
        MetricsBlockCodec.EncodeValues(buckets.Select(column).ToArray());

    private static double? Present(double value) => BitConverter.DoubleToUInt64Bits(value) == BitConverter.DoubleToUInt64Bits(Missing) ? null : value;

    private static void WriteLength(MemoryStream output, int length)
    {
        var value = (uint)length;
        while (value >= 0x80)
        {
            output.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        output.WriteByte((byte)value);
    }

    private static ReadOnlySpan<byte> Next(ReadOnlySpan<byte> data, ref int position)
    {
        var length = 0;
        for (var shift = 0; ; shift += 7)
        {
            if (position >= data.Length || shift > 28)
            {
                throw new InvalidDataException("rollup block ends early");
            }

            var b = data[position++];
            length |= (b & 0x7F) << shift;
            if (b < 0x80)
            {
                break;
            }
        }

        if (length > data.Length - position)
        {
            throw new InvalidDataException("rollup block ends early");
        }

        var column = data.Slice(position, length);
        position += length;
        return column;
    }
}
