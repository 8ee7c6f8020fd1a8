using System.Buffers;
using System.Text.Json;
using Nms.Core.Configuration;

namespace Nms.Core.Polling;

/// <summary>One queue message of a split: its batch id, the items it holds and its JSON, serialised once.</summary>
public sealed record QueueMessagePart<T>(Guid BatchId, IReadOnlyList<T> Items, BinaryData Json);

/// <summary>
/// Splits items into batch messages that stay under the 64 KiB queue limit once Base64-encoded:
/// 64 KiB of Base64 holds 48 KiB of JSON, and <see cref="MaxJsonBytes"/> keeps a margin below that.
/// Each item is serialised once, to measure it, and those bytes are the message: nothing is serialised twice.
/// </summary>
public static class QueueMessageSplitter
{
    public const int MaxJsonBytes = 45 * 1024;

    // The envelope around the items (batch id, property names, brackets) is well under this.
    private const int EnvelopeBytes = 256;

    // Utf8JsonWriter asks its buffer for at least this much at a time; with this slack the buffer never regrows.
    private const int WriterChunkBytes = 4096;

    /// <summary>
    /// Groups items so each message, <c>{"batchId": …, "<paramref name="itemsProperty"/>": [ … ], "traceParent": …}</c> in
    /// <see cref="NmsJson.Queue"/> style, is at most <paramref name="maxJsonBytes"/>. An item too large on its
    /// own is passed to <paramref name="tooLarge"/> and left out.
    /// </summary>
    public static IReadOnlyList<QueueMessagePart<T>> Split<T>(
        IEnumerable<T> items, string itemsProperty, int maxJsonBytes = MaxJsonBytes, Action<T, int>? tooLarge = null, string? traceParent = null)
    {
        var parts = new List<QueueMessagePart<T>>();
        var current = new List<(T Item, byte[] Json)>();
        var size = EnvelopeBytes;
        foreach (var item in items)
        {
            var json = JsonSerializer.SerializeToUtf8Bytes(item, NmsJson.Queue);
            var itemSize = json.Length + 1;
            if (itemSize + EnvelopeBytes > maxJsonBytes)
            {
                tooLarge?.Invoke(item, itemSize);
                continue;
            }

            if (size + itemSize > maxJsonBytes && current.Count > 0)
            {
                parts.Add(Part(current, size, itemsProperty, traceParent));
                current = [];
                size = EnvelopeBytes;
            }

            current.Add((item, json));
            size += itemSize;
        }

        if (current.Count > 0)
        {
            parts.Add(Part(current, size, itemsProperty, traceParent));
        }

        return parts;
    }

    /// <summary>
    /// Writes into one buffer of the size the split already measured (<paramref name="size"/> is an upper bound):
    /// a growing stream behind the JSON writer copied each ~45 KiB message three to four times, and at these
    /// sizes the copies land on the large-object heap, each one bringing a gen2 collection nearer.
    /// </summary>
    private static QueueMessagePart<T> Part<T>(List<(T Item, byte[] Json)> items, int size, string itemsProperty, string? traceParent)
    {
        var batchId = Guid.NewGuid();
        var buffer = new ArrayBufferWriter<byte>(size + (traceParent?.Length ?? 0) + WriterChunkBytes);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString(Name("BatchId"), batchId);
            writer.WriteStartArray(Name(itemsProperty));
            foreach (var (_, json) in items)
            {
                // Written by the serializer a moment ago: no need to parse it again.
                writer.WriteRawValue(json, skipInputValidation: true);
            }

            writer.WriteEndArray();
            if (traceParent is not null)
            {
                writer.WriteString(Name("TraceParent"), traceParent);
            }

            writer.WriteEndObject();
        }

        var kept = new List<T>(items.Count);
        foreach (var (item, _) in items)
        {
            kept.Add(item);
        }

        return new QueueMessagePart<T>(batchId, kept, new BinaryData(buffer.WrittenMemory));
    }

    private static string Name(string property) => NmsJson.Queue.PropertyNamingPolicy?.ConvertName(property) ?? property;
}
