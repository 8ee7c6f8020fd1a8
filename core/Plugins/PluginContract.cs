using System.Text.Json;
using System.Text.Json.Serialization;

namespace Nms.Core.Plugins;

// The wire contract with plugin executables; plugins/README.md is its public description.
// One JSON document on stdin, one on stdout, snake_case fields.

public static class PluginContract
{
    public const int Version = 1;
    public const string DiscoveryMode = "discovery";
    public const string PollMode = "poll";

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

public sealed record PluginRequest(
    int ContractVersion,
    string Mode,
    int TimeoutMs,
    IReadOnlyList<PluginTarget> Targets);

public sealed record PluginTarget(
    string Id,
    string Ip,
    int Port,
    PluginCredential? Credential = null,
    IReadOnlyList<PluginCredential>? Credentials = null,
    string? HostKey = null);

/// <summary>A decrypted credential: lives in memory and on a plugin's stdin only.</summary>
public sealed record PluginCredential(
    long Id,
    string Protocol,
    string? Community = null,
    string? User = null,
    string? AuthProtocol = null,
    string? AuthKey = null,
    string? PrivProtocol = null,
    string? PrivKey = null,
    string? Password = null,
    string? PrivateKey = null,
    string? PrivateKeyPassphrase = null)
{
    // Never let a credential reach a log through ToString().
    public override string ToString() => $"PluginCredential {{ Id = {Id}, Protocol = {Protocol} }}";
}

public sealed record PluginResponse(int ContractVersion, IReadOnlyList<PluginResult> Results);

public sealed record PluginResult(
    string Id,
    bool Success,
    string? Error = null,
    string? Hostname = null,
    string? Description = null,
    string? ObjectId = null,
    long? CredentialId = null,
    string? HostKey = null,
    IReadOnlyList<PluginMetric>? Metrics = null);

/// <summary>
/// One value read. <c>Kind</c> is "gauge" or "counter" (absent: counter if the name ends in _total, else gauge);
/// <c>CounterBits</c> is 32 or 64 for counters (absent: 64), so rates can tell a 32-bit wrap from a reset.
/// </summary>
public sealed record PluginMetric(
    string Name,
    double Value,
    IReadOnlyDictionary<string, string>? Labels = null,
    DateTimeOffset? Ts = null,
    string? Kind = null,
    int? CounterBits = null);
