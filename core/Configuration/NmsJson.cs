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
    public static JsonSerializerOptions Queue { get; } = CreateQueueDefaults(withConverters: true);

    /// <summary>
    /// The queue's settings; <paramref name="withConverters"/> adds the readers that take the hot messages' parts
    /// faster (<see cref="Metrics.MetricGroupJsonConverter"/>), which fall back to the settings without them.
    /// </summary>
    internal static JsonSerializerOptions CreateQueueDefaults(bool withConverters)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
        if (withConverters)
        {
            options.Converters.Add(new Metrics.MetricGroupJsonConverter());
        }

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
