using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Nms.Core.Configuration;

/// <summary>For readers that cache the strings they read: a string token's characters without allocating.</summary>
internal static class JsonStringToken
{
    /// <summary>Longer strings are not worth caching (descriptions, errors).</summary>
    public const int MaxCachedLength = 128;

    /// <summary>
    /// The token's characters into <paramref name="chars"/> (at least <see cref="MaxCachedLength"/> long); false when the
    /// token must be read with <see cref="Utf8JsonReader.GetString"/>: escaped, split, too long, or invalid UTF-8 (whose
    /// transcoding there throws, as the serializer's would).
    /// </summary>
    public static bool TryChars(ref Utf8JsonReader reader, scoped Span<char> chars, out int length)
    {
        length = 0;
        if (reader.ValueIsEscaped || reader.HasValueSequence || reader.ValueSpan.Length > MaxCachedLength)
        {
            return false;
        }

        var bytes = reader.ValueSpan;
        return Utf8.IsValid(bytes) && Encoding.UTF8.TryGetChars(bytes, chars, out length);
    }
}
