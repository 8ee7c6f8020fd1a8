using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;

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
        var bytes = new Bytes(ArrayPool<byte>.Shared.Rent(4096));
        try
        {
            bytes.Int(values.Count);
            foreach (var value in values)
            {
                bytes.Text(value.Name);
                bytes.Int(value.Labels?.Count ?? 0);
                if (value.Labels is Dictionary<string, string> dictionary)
                {
                    // The form every deserialised message has; its enumerator is a struct, so nothing is allocated.
                    foreach (var (key, label) in dictionary)
                    {
                        bytes.Text(key);
                        bytes.Text(label);
                    }
                }
                else if (value.Labels is not null)
                {
                    foreach (var (key, label) in value.Labels)
                    {
                        bytes.Text(key);
                        bytes.Text(label);
                    }
                }
            }

            return XxHash128.HashToUInt128(bytes.Written);
        }
        finally
        {
            bytes.Return();
        }
    }

    /// <summary>A pooled buffer written front to back, grown when a poll's names and labels do not fit.</summary>
    private sealed class Bytes(byte[] buffer)
    {
        private int at;

        public ReadOnlySpan<byte> Written => buffer.AsSpan(0, at);

        public void Int(int value)
        {
            Reserve(4);
            BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(at), value);
            at += 4;
        }

        public void Text(string? text)
        {
            var chars = MemoryMarshal.AsBytes((text ?? "").AsSpan());
            Int(text?.Length ?? -1);
            Reserve(chars.Length);
            chars.CopyTo(buffer.AsSpan(at));
            at += chars.Length;
        }

        public void Return() => ArrayPool<byte>.Shared.Return(buffer);

        private void Reserve(int bytes)
        {
            if (at + bytes > buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Max(2 * buffer.Length, at + bytes));
                buffer.AsSpan(0, at).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = larger;
            }
        }
    }
}
