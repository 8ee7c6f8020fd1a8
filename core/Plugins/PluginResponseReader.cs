using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Nms.Core.Configuration;
using Nms.Plugins.Sdk;

namespace Nms.Core.Plugins;

/// <summary>
/// Reads plugin response lines the way <see cref="PluginContract.Json"/> does, with less garbage: a poll answer is
/// ~50 metrics per target, and the general serializer gave each its own name, label keys and values, label
/// dictionary and boxed arguments (about 45 KiB per device poll). Here names, label keys and label values come from a
/// cache of strings already seen, and a metric whose labels equal the previous metric's (the columns of one table row)
/// shares its dictionary. Whatever this reader does not expect (escaped names, numbers as strings, nulls for numbers,
/// invalid JSON) it leaves to <see cref="PluginContract.Json"/>, which then decides as before. One instance per reading
/// thread: it is not thread-safe.
/// </summary>
internal sealed class PluginResponseReader
{
    // Enough for every name and label of a large fleet's plugins; past it, strings are no longer cached (still correct).
    private const int MaxCachedStrings = 50_000;


    private readonly Dictionary<string, string> strings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> lookup;
    private readonly List<KeyValuePair<string, string>> labels = [];
    private byte[] lastTsBytes = [];
    private DateTimeOffset lastTs;

    public PluginResponseReader() => lookup = strings.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The response, or null when the line is JSON <c>null</c>; throws <see cref="JsonException"/> on invalid JSON.</summary>
    public PluginResponse? Read(ReadOnlySpan<byte> line)
    {
        try
        {
            var reader = new Utf8JsonReader(line);
            if (TryReadResponse(ref reader, out var response) && !reader.Read())
            {
                return response;
            }
        }
        catch (JsonException)
        {
            // Invalid JSON, or a shape this reader does not take: the serializer reads it (or says what is wrong).
        }
        catch (InvalidOperationException)
        {
            // A token of another type than expected (e.g. a number too large for its field).
        }
        catch (FormatException)
        {
        }

        return JsonSerializer.Deserialize<PluginResponse>(line, PluginContract.Json);
    }

    private bool TryReadResponse(ref Utf8JsonReader reader, out PluginResponse? response)
    {
        response = null;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        int version = 0;
        List<PluginResult>? results = null;
        string? batchId = null, error = null;
        while (Next(ref reader))
        {
            if (!PropertyName(ref reader, out var name))
            {
                return false;
            }

            reader.Read();
            bool ok;
            if (Is(name, "contract_version"u8))
            {
                ok = TryInt(ref reader, out version);
            }
            else if (Is(name, "results"u8))
            {
                ok = TryResults(ref reader, out results);
            }
            else if (Is(name, "batch_id"u8))
            {
                ok = TryString(ref reader, cache: false, out batchId);
            }
            else if (Is(name, "error"u8))
            {
                ok = TryString(ref reader, cache: false, out error);
            }
            else
            {
                reader.Skip();
                ok = true;
            }

            if (!ok)
            {
                return false;
            }
        }

        response = new PluginResponse(version, results!, batchId, error);
        return true;
    }

    private bool TryResults(ref Utf8JsonReader reader, out List<PluginResult>? results)
    {
        results = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }

        results = [];
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.Null)
            {
                results.Add(null!);
            }
            else if (!TryResult(ref reader, out var result))
            {
                return false;
            }
            else
            {
                results.Add(result);
            }
        }

        return true;
    }

    private bool TryResult(ref Utf8JsonReader reader, out PluginResult result)
    {
        result = null!;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        string? id = null, error = null, hostname = null, description = null, objectId = null, hostKey = null;
        var success = false;
        long? credentialId = null;
        List<PluginMetric>? metrics = null;
        while (Next(ref reader))
        {
            if (!PropertyName(ref reader, out var name))
            {
                return false;
            }

            reader.Read();
            bool ok;
            if (Is(name, "id"u8))
            {
                ok = TryString(ref reader, cache: false, out id);
            }
            else if (Is(name, "success"u8))
            {
                ok = reader.TokenType is JsonTokenType.True or JsonTokenType.False;
                success = reader.TokenType == JsonTokenType.True;
            }
            else if (Is(name, "metrics"u8))
            {
                ok = TryMetrics(ref reader, out metrics);
            }
            else if (Is(name, "error"u8))
            {
                ok = TryString(ref reader, cache: false, out error);
            }
            else if (Is(name, "hostname"u8))
            {
                ok = TryString(ref reader, cache: false, out hostname);
            }
            else if (Is(name, "description"u8))
            {
                ok = TryString(ref reader, cache: false, out description);
            }
            else if (Is(name, "object_id"u8))
            {
                ok = TryString(ref reader, cache: false, out objectId);
            }
            else if (Is(name, "host_key"u8))
            {
                ok = TryString(ref reader, cache: false, out hostKey);
            }
            else if (Is(name, "credential_id"u8))
            {
                ok = TryNullableInt64(ref reader, out credentialId);
            }
            else
            {
                reader.Skip();
                ok = true;
            }

            if (!ok)
            {
                return false;
            }
        }

        result = new PluginResult(id!, success, error, hostname, description, objectId, credentialId, hostKey, metrics);
        return true;
    }

    private bool TryMetrics(ref Utf8JsonReader reader, out List<PluginMetric>? metrics)
    {
        metrics = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }

        metrics = [];
        IReadOnlyDictionary<string, string>? previousLabels = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.Null)
            {
                metrics.Add(null!);
                continue;
            }

            if (!TryMetric(ref reader, ref previousLabels, out var metric))
            {
                return false;
            }

            metrics.Add(metric);
        }

        return true;
    }

    private bool TryMetric(ref Utf8JsonReader reader, ref IReadOnlyDictionary<string, string>? previousLabels, out PluginMetric metric)
    {
        metric = null!;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        string? name = null, kind = null;
        double value = 0;
        IReadOnlyDictionary<string, string>? labels = null;
        DateTimeOffset? ts = null;
        int? counterBits = null;
        while (Next(ref reader))
        {
            if (!PropertyName(ref reader, out var property))
            {
                return false;
            }

            reader.Read();
            bool ok;
            if (Is(property, "name"u8))
            {
                ok = TryString(ref reader, cache: true, out name);
            }
            else if (Is(property, "value"u8))
            {
                ok = reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out value);
            }
            else if (Is(property, "labels"u8))
            {
                ok = TryLabels(ref reader, ref previousLabels, out labels);
            }
            else if (Is(property, "ts"u8))
            {
                ok = TryTs(ref reader, out ts);
            }
            else if (Is(property, "kind"u8))
            {
                ok = TryString(ref reader, cache: true, out kind);
            }
            else if (Is(property, "counter_bits"u8))
            {
                ok = TryNullableInt32(ref reader, out counterBits);
            }
            else
            {
                reader.Skip();
                ok = true;
            }

            if (!ok)
            {
                return false;
            }
        }

        metric = new PluginMetric(name!, value, labels, ts, kind, counterBits);
        return true;
    }

    private bool TryLabels(ref Utf8JsonReader reader, ref IReadOnlyDictionary<string, string>? previous, out IReadOnlyDictionary<string, string>? labels)
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

        this.labels.Clear();
        while (Next(ref reader))
        {
            // Keys are data here, not property names: read (and unescape) them as strings.
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                return false;
            }

            var key = Cached(ref reader);
            reader.Read();
            if (!TryString(ref reader, cache: true, out var value) || value is null)
            {
                // A null label value is the serializer's to judge.
                return false;
            }

            this.labels.Add(new(key, value));
        }

        if (previous is not null && SameAs(previous, this.labels))
        {
            labels = previous;
            return true;
        }

        var dictionary = new Dictionary<string, string>(this.labels.Count, StringComparer.Ordinal);
        foreach (var (key, value) in this.labels)
        {
            // A repeated key: the last one wins, as with the serializer.
            dictionary[key] = value;
        }

        labels = previous = dictionary;
        return true;
    }

    private static bool SameAs(IReadOnlyDictionary<string, string> previous, List<KeyValuePair<string, string>> pairs)
    {
        if (previous.Count != pairs.Count)
        {
            return false;
        }

        foreach (var (key, value) in pairs)
        {
            if (!previous.TryGetValue(key, out var had) || !string.Equals(had, value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The plugins stamp every metric of a target with the same time: it is parsed once.</summary>
    private bool TryTs(ref Utf8JsonReader reader, out DateTimeOffset? ts)
    {
        ts = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped || reader.HasValueSequence)
        {
            return false;
        }

        if (reader.ValueSpan.SequenceEqual(lastTsBytes))
        {
            ts = lastTs;
            return true;
        }

        if (!reader.TryGetDateTimeOffset(out var parsed))
        {
            return false;
        }

        lastTsBytes = reader.ValueSpan.ToArray();
        lastTs = parsed;
        ts = parsed;
        return true;
    }

    private bool TryString(ref Utf8JsonReader reader, bool cache, out string? value)
    {
        value = null;
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return true;
            case JsonTokenType.String:
                value = cache ? Cached(ref reader) : reader.GetString();
                return true;
            default:
                return false;
        }
    }

    /// <summary>The token's string, from the cache when it was seen before.</summary>
    private string Cached(ref Utf8JsonReader reader)
    {
        Span<char> chars = stackalloc char[JsonStringToken.MaxCachedLength];
        if (!JsonStringToken.TryChars(ref reader, chars, out var length))
        {
            return reader.GetString()!;
        }

        if (lookup.TryGetValue(chars[..length], out var known))
        {
            return known;
        }

        var text = new string(chars[..length]);
        if (strings.Count < MaxCachedStrings)
        {
            strings.Add(text, text);
        }

        return text;
    }

    /// <summary>Reads to the next property name; false at the object's end.</summary>
    private static bool Next(ref Utf8JsonReader reader) => reader.Read() && reader.TokenType != JsonTokenType.EndObject;

    private static bool PropertyName(ref Utf8JsonReader reader, out ReadOnlySpan<byte> name)
    {
        name = default;
        // Non-ASCII names go to the serializer, whose case-insensitive match is Unicode's.
        if (reader.TokenType != JsonTokenType.PropertyName || reader.ValueIsEscaped || reader.HasValueSequence || !Ascii.IsValid(reader.ValueSpan))
        {
            return false;
        }

        name = reader.ValueSpan;
        return true;
    }

    /// <summary>The serializer matches property names case-insensitively (web defaults); so does this.</summary>
    private static bool Is(ReadOnlySpan<byte> name, ReadOnlySpan<byte> expected) => Ascii.EqualsIgnoreCase(name, expected);

    private static bool TryNullableInt32(ref Utf8JsonReader reader, out int? value)
    {
        value = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        var ok = TryInt(ref reader, out var number);
        value = number;
        return ok;
    }

    private static bool TryNullableInt64(ref Utf8JsonReader reader, out long? value)
    {
        value = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        long number = 0;
        var ok = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out number);
        value = number;
        return ok;
    }

    private static bool TryInt(ref Utf8JsonReader reader, out int value)
    {
        value = 0;
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out value);
    }
}
