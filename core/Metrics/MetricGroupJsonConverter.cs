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
                Fields.Names => TryReadNames(ref reader, out names),
                Fields.Values => TryReadValues(ref reader, out values),
                Fields.Labels => TryReadLabels(ref reader, out labels),
                Fields.Kinds => TryReadKinds(ref reader, out kinds),
                _ => TryReadCounterBits(ref reader, out counterBits),
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

    private static bool TryReadNames(ref Utf8JsonReader reader, out string[]? names)
    {
        names = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        var list = new List<string>(16);
        if (!EachElement(ref reader, ref list, static (ref Utf8JsonReader r, ref List<string> l) =>
            {
                if (r.TokenType != JsonTokenType.String)
                {
                    return false;
                }

                l.Add(Cached(ref r));
                return true;
            }))
        {
            return false;
        }

        names = [.. list];
        return true;
    }

    private static bool TryReadValues(ref Utf8JsonReader reader, out double[]? values)
    {
        values = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        var list = new List<double>(16);
        if (!EachElement(ref reader, ref list, static (ref Utf8JsonReader r, ref List<double> l) =>
            {
                if (r.TokenType != JsonTokenType.Number || !r.TryGetDouble(out var number))
                {
                    return false;
                }

                l.Add(number);
                return true;
            }))
        {
            return false;
        }

        values = [.. list];
        return true;
    }

    private static bool TryReadKinds(ref Utf8JsonReader reader, out string?[]? kinds)
    {
        kinds = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        var list = new List<string?>(16);
        if (!EachElement(ref reader, ref list, static (ref Utf8JsonReader r, ref List<string?> l) =>
            {
                switch (r.TokenType)
                {
                    case JsonTokenType.Null:
                        l.Add(null);
                        return true;
                    case JsonTokenType.String:
                        l.Add(Cached(ref r));
                        return true;
                    default:
                        return false;
                }
            }))
        {
            return false;
        }

        kinds = [.. list];
        return true;
    }

    private static bool TryReadCounterBits(ref Utf8JsonReader reader, out int?[]? counterBits)
    {
        counterBits = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        var list = new List<int?>(16);
        if (!EachElement(ref reader, ref list, static (ref Utf8JsonReader r, ref List<int?> l) =>
            {
                if (r.TokenType == JsonTokenType.Null)
                {
                    l.Add(null);
                    return true;
                }

                if (r.TokenType != JsonTokenType.Number || !r.TryGetInt32(out var bits))
                {
                    return false;
                }

                l.Add(bits);
                return true;
            }))
        {
            return false;
        }

        counterBits = [.. list];
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

    private delegate bool ElementReader<T>(ref Utf8JsonReader reader, ref T into);

    private static bool EachElement<T>(ref Utf8JsonReader reader, ref T into, ElementReader<T> element)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (!element(ref reader, ref into))
            {
                return false;
            }
        }

        return reader.TokenType == JsonTokenType.EndArray;
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
