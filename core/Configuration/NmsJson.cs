using System.Text.Json;
using System.Text.Json.Serialization;

namespace Nms.Core.Configuration;

public static class NmsJson
{
    /// <summary>The API's wire format: snake_case fields, everywhere.</summary>
    public static JsonSerializerOptions Api { get; } = CreateApi();

    /// <summary>
    /// Queue messages: the worker's default web style (camelCase, case-insensitive). Read-only from the start, with the
    /// reflection resolver in place, so <see cref="JsonSerializerOptions.GetTypeInfo"/> works before any serializer call.
    /// </summary>
    public static JsonSerializerOptions Queue { get; } = CreateQueue();

    private static JsonSerializerOptions CreateQueue()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    private static JsonSerializerOptions CreateApi()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DictionaryKeyPolicy = null,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            PropertyNameCaseInsensitive = false,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        return options;
    }
}
