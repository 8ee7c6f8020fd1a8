using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Nms.Core.Buffers;
using Nms.Core.Configuration;

namespace Nms.Core.Polling;

/// <summary>One queue message of a split: its batch id, the items it holds and its JSON, serialised once.</summary>
public sealed record QueueMessagePart<T>(Guid BatchId, IReadOnlyList<T> Items, BinaryData Json);

/// <summary>
/// Splits items into batch messages that stay under the 64 KiB queue limit once Base64-encoded:
/// 64 KiB of Base64 holds 48 KiB of JSON, and <see cref="MaxJsonBytes"/> keeps a margin below that.
/// Each item is serialised once, straight into the message being filled, and those bytes are the message.
/// </summary>
public static class QueueMessageSplitter
{
    public const int MaxJsonBytes = 45 * 1024;

    /// <summary>
    /// Groups items so each message, <c>{"batchId": …, "<paramref name="itemsProperty"/>": [ … ], "traceParent": …}</c> in
    /// <see cref="NmsJson.Queue"/> style, is at most <paramref name="maxJsonBytes"/>. An item too large on its
    /// own is passed to <paramref name="tooLarge"/> (with its size and the envelope's) and left out.
    /// <paramref name="typeInfo"/>: how to write an item, when not <see cref="NmsJson.Queue"/>'s own (e.g. source-generated,
    /// which must write the same JSON).
    /// </summary>
    public static IReadOnlyList<QueueMessagePart<T>> Split<T>(
        IEnumerable<T> items, string itemsProperty, int maxJsonBytes = MaxJsonBytes, Action<T, int>? tooLarge = null,
        string? traceParent = null, JsonTypeInfo<T>? typeInfo = null)
    {
        typeInfo ??= (JsonTypeInfo<T>)NmsJson.Queue.GetTypeInfo(typeof(T));
        var parts = new List<QueueMessagePart<T>>();
        using var message = new MessageBuilder(itemsProperty, traceParent);
        var current = new List<T>();
        foreach (var item in items)
        {
            var first = current.Count == 0;
            var itemBytes = message.Append(item, typeInfo, first);
            var alone = message.EnvelopeBytes + itemBytes - (first ? 0 : 1);
            if (alone > maxJsonBytes)
            {
                message.DropLast(itemBytes);
                tooLarge?.Invoke(item, alone);
                continue;
            }

            if (message.Length > maxJsonBytes)
            {
                // The item does not fit (and is not the first): the message ends before its comma, and it opens the next one.
                parts.Add(new QueueMessagePart<T>(message.BatchId, current, message.Finish(carryLast: itemBytes)));
                current = [];
            }

            current.Add(item);
        }

        if (current.Count > 0)
        {
            parts.Add(new QueueMessagePart<T>(message.BatchId, current, message.Finish(carryLast: 0)));
        }

        return parts;
    }

    /// <summary>
    /// The message being filled, in one pooled buffer: the envelope's head, then items separated by commas, as
    /// written. <see cref="Length"/> counts the tail (<c>]</c>, trace parent, <c>}</c>) too, so it is the message's
    /// final size. Finishing copies the message out once, at its exact size: a growing stream behind the JSON writer
    /// copied each ~45 KiB message three to four times, and per-item byte arrays doubled the bytes allocated.
    /// </summary>
    private sealed class MessageBuilder : IDisposable
    {
        private readonly byte[] itemsName;
        private readonly byte[] tail;
        private readonly PooledByteBuffer buffer = new(MaxJsonBytes + 8 * 1024);
        private readonly Utf8JsonWriter writer;
        private int headBytes;

        public MessageBuilder(string itemsProperty, string? traceParent)
        {
            itemsName = JsonEncodedText.Encode(Name(itemsProperty)).EncodedUtf8Bytes.ToArray();
            tail = Tail(traceParent);
            writer = new Utf8JsonWriter(buffer);
            Start();
        }

        public Guid BatchId { get; private set; }

        public int Length => buffer.WrittenCount + tail.Length;

        /// <summary>The head and tail, without any item.</summary>
        public int EnvelopeBytes => headBytes + tail.Length;

        /// <summary>Writes the item (after a comma unless <paramref name="first"/>) and returns its size, comma included.</summary>
        public int Append<T>(T item, JsonTypeInfo<T> typeInfo, bool first)
        {
            var before = buffer.WrittenCount;
            if (!first)
            {
                buffer.Write(","u8);
            }

            writer.Reset(buffer);
            JsonSerializer.Serialize(writer, item, typeInfo);
            writer.Flush();
            return buffer.WrittenCount - before;
        }

        public void DropLast(int itemBytes) => buffer.Truncate(buffer.WrittenCount - itemBytes);

        /// <summary>
        /// The message without its last <paramref name="carryLast"/> bytes (a comma and an item, or none), and starts
        /// the next message, which that item (without its comma) begins.
        /// </summary>
        public BinaryData Finish(int carryLast)
        {
            var end = buffer.WrittenCount - carryLast;
            var json = new byte[end + tail.Length];
            buffer.WrittenSpan[..end].CopyTo(json);
            tail.CopyTo(json.AsSpan(end));
            byte[]? carried = carryLast > 0 ? buffer.WrittenSpan[(end + 1)..].ToArray() : null;
            Start();
            if (carried is not null)
            {
                buffer.Write(carried);
            }

            return new BinaryData(json);
        }

        private void Start()
        {
            BatchId = Guid.NewGuid();
            buffer.Truncate(0);
            writer.Reset(buffer);
            writer.WriteStartObject();
            writer.WriteString(Name("BatchId"), BatchId);
            writer.Flush();
            buffer.Write(","u8);
            buffer.Write("\""u8);
            buffer.Write(itemsName);
            buffer.Write("\":["u8);
            headBytes = buffer.WrittenCount;
        }

        private static byte[] Tail(string? traceParent)
        {
            if (traceParent is null)
            {
                return "]}"u8.ToArray();
            }

            var name = JsonEncodedText.Encode(Name("TraceParent")).EncodedUtf8Bytes;
            var value = JsonEncodedText.Encode(traceParent).EncodedUtf8Bytes;
            var tail = new byte[2 + 1 + name.Length + 3 + value.Length + 2];
            var span = tail.AsSpan();
            "],\""u8.CopyTo(span);
            name.CopyTo(span[3..]);
            "\":\""u8.CopyTo(span[(3 + name.Length)..]);
            value.CopyTo(span[(6 + name.Length)..]);
            "\"}"u8.CopyTo(span[(6 + name.Length + value.Length)..]);
            return tail;
        }

        public void Dispose()
        {
            writer.Dispose();
            buffer.Dispose();
        }
    }

    private static string Name(string property) => NmsJson.Queue.PropertyNamingPolicy?.ConvertName(property) ?? property;
}
