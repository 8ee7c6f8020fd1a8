using System.Text.Json.Serialization;
using Nms.Plugins.Sdk;

namespace Nms.Core.Entities;

// API request and response bodies (snake_case on the wire via NmsJson.Api). Request properties are
// all nullable on purpose: a missing required field is then a 400 that names it, raised by the
// services' validation, rather than a serializer error about the whole body. They also read
// numbers strictly: "161" is a string, and a string where a number belongs is a 400 naming it
// (NmsJson.Api starts from the web defaults, which would accept it).

public sealed record ItemList<T>(IReadOnlyList<T> Items);

public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

// ---- discovery profiles ---------------------------------------------------------------------

[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record DiscoveryProfileRequest(
    string? Name = null,
    string? Target = null,
    int? Port = null,
    string? Plugin = null,
    IReadOnlyList<long>? CredentialProfileIds = null,
    bool? PingPrecheck = null,
    int? TimeoutMs = null,
    int? PollIntervalSeconds = null,
    long? PollProfileId = null);

/// <summary><see cref="AddressCount"/> is null only for a stored target that today's parser no longer accepts.</summary>
public sealed record DiscoveryProfile(
    long Id,
    string Name,
    string Target,
    long? AddressCount,
    int Port,
    string Plugin,
    IReadOnlyList<long> CredentialProfileIds,
    bool PingPrecheck,
    int TimeoutMs,
    int PollIntervalSeconds,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    long? PollProfileId = null);

// ---- devices --------------------------------------------------------------------------------

[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record DeviceCreateRequest(
    string? Ip = null,
    int? Port = null,
    string? Hostname = null,
    string? Description = null,
    string? Plugin = null,
    long? CredentialProfileId = null,
    int? PollIntervalSeconds = null,
    long? PollProfileId = null);

/// <summary>
/// Absent fields are left as they are. <c>status</c> reactivates or deactivates by hand. <c>poll_profile_id</c> is
/// the one field where null means something: <c>"poll_profile_id": null</c> puts the device back on the default
/// profile, while leaving the field out keeps the one it has.
/// </summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record DevicePatchRequest(
    int? PollIntervalSeconds = null,
    long? CredentialProfileId = null,
    string? Status = null,
    string? DeactivationReason = null)
{
    private readonly long? _pollProfileId;

    /// <summary>The serializer calls this only when the body names the field, null included.</summary>
    public long? PollProfileId
    {
        get => _pollProfileId;
        init
        {
            _pollProfileId = value;
            PollProfileIdGiven = true;
        }
    }

    /// <summary>Internal, so the serializer neither reads nor writes it.</summary>
    internal bool PollProfileIdGiven { get; private init; }
}

public sealed record Device(
    long Id,
    string Ip,
    int Port,
    string? Hostname,
    string? Description,
    string Plugin,
    long? CredentialProfileId,
    long? DiscoveryProfileId,
    int PollIntervalSeconds,
    string Status,
    string? DeactivationReason,
    string? DeactivationError,
    DateTimeOffset? DeactivatedAt,
    int FailureCount,
    DateTimeOffset? LastFailureAt,
    string? LastFailureReason,
    string? LastFailureError,
    DateTimeOffset? NextPollAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    long? PollProfileId = null);

public sealed record DeviceQuery(string? Status = null, string? Plugin = null, string? Q = null, string? Cursor = null, int? Limit = null, string? Tag = null);

public static class DeviceStatus
{
    public const string Active = "active";
    public const string Inactive = "inactive";
    public const string ManualReason = "manual";

    /// <summary>Reasons only the health monitor gives (FailureEvent.PingReason/PollReason).</summary>
    public static readonly IReadOnlyList<string> HealthReasons = [Health.FailureEvent.PingReason, Health.FailureEvent.PollReason];
}

// ---- api keys -------------------------------------------------------------------------------

[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record ApiKeyRequest(string? Name = null, string? Role = null);

public sealed record ApiKey(Guid Id, string Name, string Role, string KeyPrefix, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, DateTimeOffset? LastUsedAt);

/// <summary>The only response that ever carries a key: the one that creates it.</summary>
public sealed record CreatedApiKey(Guid Id, string Name, string Role, string KeyPrefix, string Key, DateTimeOffset CreatedAt)
{
    public override string ToString() => $"CreatedApiKey {{ Id = {Id}, Name = {Name}, Role = {Role} }}";
}

// ---- poll profiles --------------------------------------------------------------------------

/// <summary>What a poll reads (plugins/README.md "Poll profiles"); every field is checked by <see cref="PollProfileValidation"/>.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record PollProfileRequest(
    string? Name = null,
    IReadOnlyList<PollObjectRequest?>? Scalars = null,
    IReadOnlyList<PollTableRequest?>? Tables = null,
    int? MaxRequests = null);

[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record PollObjectRequest(string? Oid = null, string? Metric = null, string? Kind = null, int? CounterBits = null);

[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record PollTableRequest(IReadOnlyList<PollObjectRequest?>? Columns = null, string? IndexLabel = null, IReadOnlyList<PollLookupRequest?>? Lookups = null);

public sealed record PollLookupRequest(string? Oid = null, string? Label = null);

/// <summary>A stored profile: the definition in the plugin contract's own records, so it travels to the plugin as it is.</summary>
public sealed record PollProfile(
    long Id,
    string Name,
    IReadOnlyList<PluginPollObject> Scalars,
    IReadOnlyList<PluginPollTable> Tables,
    int? MaxRequests,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public PluginPollProfile ToPlugin() => new(Name, Scalars, Tables, MaxRequests);
}

/// <summary>The jsonb column poll_profiles.definition.</summary>
public sealed record PollProfileDefinition(IReadOnlyList<PluginPollObject> Scalars, IReadOnlyList<PluginPollTable> Tables, int? MaxRequests = null);
