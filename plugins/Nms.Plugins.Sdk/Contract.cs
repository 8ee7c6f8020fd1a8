using System.Text.Json.Serialization;

namespace Nms.Plugins.Sdk;

// The one definition of the plugin wire contract, used by the plugins and by the app (Nms.Core
// references this project). It depends on nothing but the BCL, and the source-generated
// serializer below is what keeps plugins trimmable for Native AOT.

public static class ContractInfo
{
    public const int Version = 1;
    public const string DiscoveryMode = "discovery";
    public const string PollMode = "poll";

    /// <summary>
    /// The long-running mode: <c>-serve</c> reads one request per line on stdin and writes one response per line on
    /// stdout, each carrying the request's <c>batch_id</c>, until stdin closes. A plugin that has it says so in its
    /// manifest (<c>-manifest</c>, published beside the executable as <see cref="ManifestSuffix"/>).
    /// </summary>
    public const string ServeMode = "serve";

    public const string ManifestSuffix = ".manifest.json";
}

public static class Protocols
{
    public const string SnmpV1 = "snmp_v1";
    public const string SnmpV2c = "snmp_v2c";
    public const string SnmpV3 = "snmp_v3";
    public const string Ssh = "ssh";
}

/// <summary><c>BatchId</c>: set in serve mode only, echoed in the response so each answer finds its request.</summary>
public sealed record PluginRequest(
    int ContractVersion,
    string Mode,
    int TimeoutMs,
    IReadOnlyList<PluginTarget> Targets,
    string? BatchId = null);

public sealed record PluginTarget(
    string Id,
    string Ip,
    int Port,
    PluginCredential? Credential = null,
    IReadOnlyList<PluginCredential>? Credentials = null,
    string? HostKey = null,
    PluginPollProfile? PollProfile = null);
/// <summary>
/// What a poll reads, like an snmp_exporter module (plugins/README.md "Poll profiles"). Absent: the plugin's default set.
/// <c>MaxRequests</c> bounds the requests one device poll may send (retransmissions not counted).
/// </summary>
public sealed record PluginPollProfile(
    string Name,
    IReadOnlyList<PluginPollObject>? Scalars = null,
    IReadOnlyList<PluginPollTable>? Tables = null,
    int? MaxRequests = null);

/// <summary>One object to read: a scalar instance or a table column. <c>Kind</c> "gauge" or "counter", <c>CounterBits</c> 32 or 64.</summary>
public sealed record PluginPollObject(string Oid, string Metric, string? Kind = null, int? CounterBits = null);

/// <summary>Table columns walked together; each row is labelled <c>IndexLabel</c> (default "index") = its index, plus lookups.</summary>
public sealed record PluginPollTable(IReadOnlyList<PluginPollObject> Columns, string? IndexLabel = null, IReadOnlyList<PluginPollLookup>? Lookups = null);

/// <summary>Labels each row with the text of another column at the same index (e.g. ifName as "interface").</summary>
public sealed record PluginPollLookup(string Oid, string Label);


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

/// <summary>
/// <c>BatchId</c>: the request's, in serve mode. <c>Error</c>: serve mode's way to fail one request as a whole
/// (malformed, unsupported version) without ending the process; one-shot mode uses the exit code instead.
/// </summary>
public sealed record PluginResponse(int ContractVersion, IReadOnlyList<PluginResult> Results, string? BatchId = null, string? Error = null);

/// <summary>What a plugin supports, printed by <c>-manifest</c>: the app runs a plugin with <c>Serve</c> as one long-running process.</summary>
public sealed record PluginManifest(int ContractVersion, string Name, bool Serve);

public sealed record PluginResult(
    string Id,
    bool Success,
    string? Error = null,
    string? Hostname = null,
    string? Description = null,
    string? ObjectId = null,
    long? CredentialId = null,
    string? HostKey = null,
    IReadOnlyList<PluginMetric>? Metrics = null)
{
    public static PluginResult Fail(string id, string error) => new(id, false, Error: error);
}

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

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNameCaseInsensitive = true,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(PluginRequest))]
[JsonSerializable(typeof(PluginResponse))]
[JsonSerializable(typeof(PluginManifest))]
public sealed partial class ContractJson : JsonSerializerContext;
