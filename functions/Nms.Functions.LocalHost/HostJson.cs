using System.Text.Json;

namespace Nms.Functions.LocalHost;

/// <summary>The parts of <c>host.json</c> the local host honours, with the Functions host's defaults.</summary>
public sealed record HostJson(string RoutePrefix, QueueSettings Queues, TimeSpan FunctionTimeout)
{
    public static HostJson Load(string path)
    {
        if (!File.Exists(path))
        {
            return new HostJson("api", new QueueSettings(), TimeSpan.FromMinutes(5));
        }

        using var document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var root = document.RootElement;
        var extensions = root.TryGetProperty("extensions", out var e) ? e : default;
        var routePrefix = extensions.ValueKind == JsonValueKind.Object && extensions.TryGetProperty("http", out var http) && http.TryGetProperty("routePrefix", out var prefix)
            ? prefix.GetString() ?? "api"
            : "api";
        var queues = extensions.ValueKind == JsonValueKind.Object && extensions.TryGetProperty("queues", out var q) ? QueueSettings.From(q) : new QueueSettings();
        var timeout = root.TryGetProperty("functionTimeout", out var t) && TimeSpan.TryParse(t.GetString(), System.Globalization.CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : TimeSpan.FromMinutes(5);
        return new HostJson(routePrefix, queues, timeout);
    }
}

public sealed record QueueSettings(
    int BatchSize = 16,
    int NewBatchThreshold = 8,
    int MaxDequeueCount = 5,
    TimeSpan VisibilityTimeout = default,
    TimeSpan MaxPollingInterval = default)
{
    public TimeSpan PollingCeiling => MaxPollingInterval == TimeSpan.Zero ? TimeSpan.FromMinutes(1) : MaxPollingInterval;

    public static QueueSettings From(JsonElement queues)
    {
        var batchSize = Int(queues, "batchSize") ?? 16;
        return new QueueSettings(
            batchSize,
            Int(queues, "newBatchThreshold") ?? batchSize / 2,
            Int(queues, "maxDequeueCount") ?? 5,
            Time(queues, "visibilityTimeout") ?? TimeSpan.Zero,
            Time(queues, "maxPollingInterval") ?? TimeSpan.FromMinutes(1));
    }

    private static int? Int(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.TryGetInt32(out var number) ? number : null;

    private static TimeSpan? Time(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && TimeSpan.TryParse(value.GetString(), System.Globalization.CultureInfo.InvariantCulture, out var time) ? time : null;
}
