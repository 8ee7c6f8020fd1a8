using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Nms.Core.Buffers;

namespace Nms.Core.Metrics;

/// <summary>
/// A poll's series, in order, as one 128-bit XXH3 hash: every value's name and labels (as they enumerate), each
/// string and count length-prefixed so that no two different sequences hash the same bytes. Values and times are
/// not part of it.
/// </summary>
internal static class PollFingerprint
{
    public static UInt128 Of(IReadOnlyList<MetricValue> values)
    {
        using var bytes = new PooledByteBuffer(4096);
        Int(bytes, values.Count);
        foreach (var value in values)
        {
            Text(bytes, value.Name);
            Int(bytes, value.Labels?.Count ?? 0);
            if (value.Labels is Dictionary<string, string> dictionary)
            {
                // The form every deserialised message has; its enumerator is a struct, so nothing is allocated.
                foreach (var (key, label) in dictionary)
                {
                    Text(bytes, key);
                    Text(bytes, label);
                }
            }
            else if (value.Labels is not null)
            {
                foreach (var (key, label) in value.Labels)
                {
                    Text(bytes, key);
                    Text(bytes, label);
                }
            }
        }

        return XxHash128.HashToUInt128(bytes.WrittenSpan);
    }

    private static void Int(PooledByteBuffer bytes, int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(bytes.GetSpan(4), value);
        bytes.Advance(4);
    }

    private static void Text(PooledByteBuffer bytes, string? text)
    {
        Int(bytes, text?.Length ?? -1);
        bytes.Write(MemoryMarshal.AsBytes((text ?? "").AsSpan()));
    }
}
