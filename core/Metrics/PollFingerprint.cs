using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Nms.Core.Buffers;

namespace Nms.Core.Metrics;

/// <summary>
/// A poll's series, in order, as one 128-bit XXH3 hash: every value's name and labels (as they enumerate), each
/// string and count length-prefixed so that no two different sequences hash the same bytes. Values and times are
/// not part of it. A value whose labels are the same dictionary as the value before it (every sample of a grouped
/// message's group shares its group's) writes a marker instead of them: the labels were the cost, four times the
/// names'. The marker only stands for labels already written, so different series still give different bytes; the
/// same series with labels shared or not give two fingerprints, which costs a cache miss and nothing else.
/// </summary>
internal static class PollFingerprint
{
    private const int SameLabelsAsBefore = -2;

    public static UInt128 Of(IReadOnlyList<MetricValue> values)
    {
        using var bytes = new PooledByteBuffer(4096);
        Int(bytes, values.Count);
        IReadOnlyDictionary<string, string>? previous = null;
        for (var v = 0; v < values.Count; v++)
        {
            var value = values[v];
            Text(bytes, value.Name);
            if (v > 0 && value.Labels is not null && ReferenceEquals(value.Labels, previous))
            {
                Int(bytes, SameLabelsAsBefore);
                continue;
            }

            previous = value.Labels;
            Labels(bytes, value.Labels);
        }

        return XxHash128.HashToUInt128(bytes.WrittenSpan);
    }

    private static void Labels(PooledByteBuffer bytes, IReadOnlyDictionary<string, string>? labels)
    {
        Int(bytes, labels?.Count ?? 0);
        if (labels is Dictionary<string, string> dictionary)
        {
            // The form every deserialised message has; its enumerator is a struct, so nothing is allocated.
            foreach (var (key, label) in dictionary)
            {
                Text(bytes, key);
                Text(bytes, label);
            }
        }
        else if (labels is not null)
        {
            foreach (var (key, label) in labels)
            {
                Text(bytes, key);
                Text(bytes, label);
            }
        }
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
