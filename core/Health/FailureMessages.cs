using System.Text.Json;
using System.Text.Json.Serialization;

namespace Nms.Core.Health;

/// <summary>The seed's EventDeviceFailure. EventId makes the consumer idempotent.</summary>
public sealed record FailureEvent(Guid EventId, long DeviceId, string Reason, string? Error, DateTimeOffset OccurredAt)
{
    public const string PingReason = "ping";
    public const string PollReason = "poll";
}

/// <summary>
/// Failure events on the <c>failures</c> queue: one message per poll batch (split to fit), like metrics.
/// A message holding a single <see cref="FailureEvent"/>, the format before batches, still reads as a
/// batch of one, so messages in flight across an upgrade are not poisoned. <see cref="TraceParent"/>: the W3C trace
/// context of the poll that saw the failures (optional).
/// </summary>
[JsonConverter(typeof(FailureBatchMessageConverter))]
public sealed record FailureBatchMessage(Guid BatchId, IReadOnlyList<FailureEvent> Events, string? TraceParent = null);

internal sealed class FailureBatchMessageConverter : JsonConverter<FailureBatchMessage>
{
    public override FailureBatchMessage? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        var eventsName = Name(options, nameof(FailureBatchMessage.Events));
        if (root.ValueKind == JsonValueKind.Object && TryGet(root, eventsName, options, out var events))
        {
            var batchId = TryGet(root, Name(options, nameof(FailureBatchMessage.BatchId)), options, out var id) ? id.Deserialize<Guid>(options) : Guid.Empty;
            var traceParent = TryGet(root, Name(options, nameof(FailureBatchMessage.TraceParent)), options, out var trace) && trace.ValueKind == JsonValueKind.String ? trace.GetString() : null;
            return new FailureBatchMessage(batchId, events.Deserialize<List<FailureEvent>>(options) ?? [], traceParent);
        }

        var single = root.Deserialize<FailureEvent>(options) ?? throw new JsonException("A failure message is neither a batch nor an event.");
        return new FailureBatchMessage(single.EventId, [single]);
    }

    public override void Write(Utf8JsonWriter writer, FailureBatchMessage value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WritePropertyName(Name(options, nameof(FailureBatchMessage.BatchId)));
        JsonSerializer.Serialize(writer, value.BatchId, options);
        writer.WritePropertyName(Name(options, nameof(FailureBatchMessage.Events)));
        JsonSerializer.Serialize(writer, value.Events, options);
        if (value.TraceParent is not null)
        {
            writer.WriteString(Name(options, nameof(FailureBatchMessage.TraceParent)), value.TraceParent);
        }

        writer.WriteEndObject();
    }

    private static string Name(JsonSerializerOptions options, string property) => options.PropertyNamingPolicy?.ConvertName(property) ?? property;

    private static bool TryGet(JsonElement root, string name, JsonSerializerOptions options, out JsonElement value)
    {
        if (root.TryGetProperty(name, out value))
        {
            return true;
        }

        if (options.PropertyNameCaseInsensitive)
        {
            foreach (var property in root.EnumerateObject())
            {
                if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
                {
                    value = property.Value;
                    return true;
                }
            }
        }

        return false;
    }
}
