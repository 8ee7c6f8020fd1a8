using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Unicode;
using Nms.Core.Configuration;

namespace Nms.Core.Metrics;

/// <summary>
/// Reads a <see cref="MetricGroup"/> of a metrics message the way <see cref="NmsJson.Queue"/>'s serializer would, with
/// less garbage and CPU: a message holds ~1,000 samples, and the serializer gave each its own name string and built
/// every array through its constructor-argument buffers (parsing was about three times the writer's own CPU per
/// sample, ingest bench). Here names, label keys and label values come from a process-wide cache of strings already
/// seen (a fleet's metric names and labels repeat from poll to poll), and the arrays are read straight into arrays.
/// Whatever this reader does not expect (escaped or duplicate property names, numbers as strings, nulls where a name or
/// number belongs) it hands to the serializer without this converter, which then decides exactly as before. Writing
/// is the serializer's own, field for field.
/// </summary>
internal sealed class MetricGroupJsonConverter : JsonConverter<MetricGroup>
{
    // Enough for the names and labels of a large fleet; past it, strings are allocated as before (still correct).
    private const int MaxCachedStrings = 100_000;

    private static readonly ConcurrentDictionary<string, string> Strings = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> Lookup = Strings.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The queue's settings without this converter: what decides on input this reader does not take.</summary>
    private static readonly JsonSerializerOptions Fallback = NmsJson.CreateQueueDefaults(withConverters: false);

    public override MetricGroup? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var start = reader;
        try
        {
            if (TryRead(ref reader) is { } group)
            {
                return group;
            }
        }
        catch (JsonException)
        {
            // Invalid JSON, or a token of another type than expected: the serializer reads it (or says what is wrong).
        }
        catch (InvalidOperationException)
        {
        }
        catch (FormatException)
        {
        }

        reader = start;
        try
        {
            return JsonSerializer.Deserialize<MetricGroup>(ref reader, Fallback);
        }
        catch (JsonException ex)
        {
            // The nested read's path starts at the group; thrown without one, the outer read adds the group's.
            throw new JsonException(ex.Message, ex);
        }
    }

    public override void Write(Utf8JsonWriter writer, MetricGroup value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value, Fallback);

    private static MetricGroup? TryRead(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        string[]? names = null;
        double[]? values = null;
        Dictionary<string, string>? labels = null;
        string?[]? kinds = null;
        int?[]? counterBits = null;
        var seen = Fields.None;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var field = Field(ref reader);
            if (field == Fields.Unknown)
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            if (field == Fields.None || (seen & field) != 0 || !reader.Read())
            {
                return null;
            }

            seen |= field;
            var ok = field switch
            {
                Fields.Names => TryReadArray(ref reader, Name, out names),
                Fields.Values => TryReadArray(ref reader, Number, out values),
                Fields.Labels => TryReadLabels(ref reader, out labels),
                Fields.Kinds => TryReadArray(ref reader, Kind, out kinds),
                _ => TryReadArray(ref reader, Bits, out counterBits),
            };
            if (!ok)
            {
                return null;
            }
        }

        // A missing array stays null, as the serializer leaves it: the group's own checks name it.
        return reader.TokenType == JsonTokenType.EndObject ? new MetricGroup(names!, values!, labels, kinds, counterBits) : null;
    }

    [Flags]
    private enum Fields
    {
        None = 0,
        Names = 1,
        Values = 2,
        Labels = 4,
        Kinds = 8,
        CounterBits = 16,
        Unknown = 32,
    }

    /// <summary>The property at the reader, matched as the queue's case-insensitive options match it; None for a name this reader leaves to the serializer.</summary>
    private static Fields Field(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.PropertyName || reader.ValueIsEscaped || reader.HasValueSequence || !Ascii.IsValid(reader.ValueSpan))
        {
            return Fields.None;
        }

        var name = reader.ValueSpan;
        return Ascii.EqualsIgnoreCase(name, "names"u8) ? Fields.Names
            : Ascii.EqualsIgnoreCase(name, "values"u8) ? Fields.Values
            : Ascii.EqualsIgnoreCase(name, "labels"u8) ? Fields.Labels
            : Ascii.EqualsIgnoreCase(name, "kinds"u8) ? Fields.Kinds
            : Ascii.EqualsIgnoreCase(name, "counterBits"u8) ? Fields.CounterBits
            : Fields.Unknown;
    }

    /// <summary>A JSON array (or null) whose every element <paramref name="element"/> takes; false when one does not.</summary>
    private static bool TryReadArray<T>(ref Utf8JsonReader reader, ElementReader<T> element, out T[]? array)
    {
        array = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }

        var list = new List<T>(16);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (!element(ref reader, out var item))
            {
                return false;
            }

            list.Add(item);
        }

        array = [.. list];
        return reader.TokenType == JsonTokenType.EndArray;
    }

    private delegate bool ElementReader<T>(ref Utf8JsonReader reader, out T element);

    private static bool Name(ref Utf8JsonReader reader, out string name)
    {
        name = reader.TokenType == JsonTokenType.String ? Cached(ref reader) : "";
        return reader.TokenType == JsonTokenType.String;
    }

    private static bool Number(ref Utf8JsonReader reader, out double number)
    {
        number = 0;
        return reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out number);
    }

    private static bool Kind(ref Utf8JsonReader reader, out string? kind)
    {
        kind = reader.TokenType == JsonTokenType.String ? Cached(ref reader) : null;
        return reader.TokenType is JsonTokenType.String or JsonTokenType.Null;
    }

    private static bool Bits(ref Utf8JsonReader reader, out int? bits)
    {
        bits = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var value))
        {
            return false;
        }

        bits = value;
        return true;
    }

    private static bool TryReadLabels(ref Utf8JsonReader reader, out Dictionary<string, string>? labels)
    {
        labels = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var read = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            // A key twice is the serializer's to decide (it keeps the last, or refuses when told to).
            if (reader.TokenType != JsonTokenType.PropertyName || reader.HasValueSequence)
            {
                return false;
            }

            var key = Cached(ref reader);
            if (!reader.Read() || reader.TokenType != JsonTokenType.String || !read.TryAdd(key, Cached(ref reader)))
            {
                return false;
            }
        }

        labels = read;
        return true;
    }

    /// <summary>The token's string (a property name or a string value), from the cache when it was seen before.</summary>
    private static string Cached(ref Utf8JsonReader reader)
    {
        Span<char> chars = stackalloc char[JsonStringToken.MaxCachedLength];
        if (!JsonStringToken.TryChars(ref reader, chars, out var length))
        {
            return reader.GetString()!;
        }

        if (Lookup.TryGetValue(chars[..length], out var known))
        {
            return known;
        }

        var text = new string(chars[..length]);
        return Strings.Count < MaxCachedStrings ? Strings.GetOrAdd(text, text) : text;
    }
}
