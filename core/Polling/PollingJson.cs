using System.Text.Json;
using System.Text.Json.Serialization;
using Nms.Core.Health;
using Nms.Core.Metrics;

namespace Nms.Core.Polling;

/// <summary>
/// What the poller writes to the queues, source-generated with <see cref="Configuration.NmsJson.Queue"/>'s settings (web
/// defaults, nulls left out), so each sample is written without the reflection serializer's per-value work. It writes the
/// same bytes as <see cref="Configuration.NmsJson.Queue"/> (a test holds it to that); the readers use the latter.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    GenerationMode = JsonSourceGenerationMode.Serialization)]
[JsonSerializable(typeof(MetricPoll))]
[JsonSerializable(typeof(GroupedPoll))]
[JsonSerializable(typeof(FailureEvent))]
internal sealed partial class PollingJson : JsonSerializerContext;
