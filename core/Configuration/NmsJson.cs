using System.Text.Json;
using System.Text.Json.Serialization;

namespace Nms.Core.Configuration;

public static class NmsJson
{
    /// <summary>The API's wire format: snake_case fields, everywhere.</summary>
    public static JsonSerializerOptions Api { get; } = CreateApi();

    /// <summary>Queue messages: the worker's default web style (camelCase, case-insensitive).</summary>
    public static JsonSerializerOptions Queue { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

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
