using System.Text.Json;
using System.Text.Json.Serialization;
using Nms.Plugins.Sdk;

namespace Nms.Core.Plugins;

// The wire contract with plugin executables is defined once, in plugins/Nms.Plugins.Sdk/Contract.cs
// (PluginRequest, PluginTarget, PluginCredential, PluginResponse, PluginResult, PluginMetric);
// plugins/README.md is its public description. This is how the app reads and writes it.

public static class PluginContract
{
    public const int Version = ContractInfo.Version;
    public const string DiscoveryMode = ContractInfo.DiscoveryMode;
    public const string PollMode = ContractInfo.PollMode;

    /// <summary>Lenient on purpose: a plugin's odd field must not fail its whole batch; the app checks what it reads.</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
