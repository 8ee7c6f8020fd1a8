using System.Text.Json;
using Nms.Core.Configuration;

namespace Nms.Core.Polling;

/// <summary>
/// Splits items into messages that stay under the 64 KiB queue limit once Base64-encoded:
/// 64 KiB of Base64 holds 48 KiB of JSON, and <see cref="MaxJsonBytes"/> keeps a margin below that.
/// </summary>
public static class QueueMessageSplitter
{
    public const int MaxJsonBytes = 45 * 1024;

    // The envelope around the items (batch id, property names, brackets) is well under this.
    private const int EnvelopeBytes = 256;

    /// <summary>Groups items so each group's message serialises to at most <paramref name="maxJsonBytes"/>. An item too large on its own is passed to <paramref name="tooLarge"/> and left out.</summary>
    public static IReadOnlyList<IReadOnlyList<T>> Split<T>(IEnumerable<T> items, int maxJsonBytes = MaxJsonBytes, Action<T, int>? tooLarge = null)
    {
        var groups = new List<IReadOnlyList<T>>();
        var current = new List<T>();
        var size = EnvelopeBytes;
        foreach (var item in items)
        {
            var itemSize = JsonSerializer.SerializeToUtf8Bytes(item, NmsJson.Queue).Length + 1;
            if (itemSize + EnvelopeBytes > maxJsonBytes)
            {
                tooLarge?.Invoke(item, itemSize);
                continue;
            }

            if (size + itemSize > maxJsonBytes && current.Count > 0)
            {
                groups.Add(current);
                current = [];
                size = EnvelopeBytes;
            }

            current.Add(item);
            size += itemSize;
        }

        if (current.Count > 0)
        {
            groups.Add(current);
        }

        return groups;
    }
}
