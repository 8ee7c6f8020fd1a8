using System.Text.Json.Serialization;

namespace Nms.Core.Alerting;

// API bodies of the alerting feature (snake_case on the wire). Request properties are nullable so a
// missing required field is a 400 naming it, raised by the services' validation.

[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record TagsRequest(IReadOnlyList<string>? Tags = null);

public sealed record TagList(IReadOnlyList<string> Tags);

// ---- rules -------------------------------------------------------------------------------------

[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record AlertRuleRequest(
    string? Name = null,
    string? Kind = null,
    string? Severity = null,
    bool? Enabled = null,
    IReadOnlyList<string>? ScopeTags = null,
    IReadOnlyList<long>? ScopeDeviceIds = null,
    int? ForSeconds = null,
    int? FailureCount = null,
    string? Metric = null,
    IReadOnlyDictionary<string, string>? Labels = null,
    string? Fn = null,
    int? WindowSeconds = null,
    string? Op = null,
    double? Threshold = null,
    string? RecoveryOp = null,
    double? RecoveryThreshold = null,
    bool? AllowUnknownMetric = null,
    IReadOnlyList<long>? ChannelIds = null);

public sealed record AlertRule(
    long Id,
    string Name,
    string Kind,
    string Severity,
    bool Enabled,
    IReadOnlyList<string> ScopeTags,
    IReadOnlyList<long> ScopeDeviceIds,
    int ForSeconds,
    int? FailureCount,
    string? Metric,
    IReadOnlyDictionary<string, string> Labels,
    string? Fn,
    int WindowSeconds,
    string? Op,
    double? Threshold,
    string? RecoveryOp,
    double? RecoveryThreshold,
    bool AllowUnknownMetric,
    IReadOnlyList<long> ChannelIds,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

public static class AlertKinds
{
    public const string DeviceDown = "device_down";
    public const string InterfaceDown = "interface_down";
    public const string Threshold = "threshold";
    public static readonly IReadOnlyList<string> All = [DeviceDown, InterfaceDown, Threshold];
    public static readonly IReadOnlyList<string> Severities = ["info", "warning", "critical"];
    public static readonly IReadOnlyList<string> Functions = ["value", "rate", "avg", "min", "max"];
    public static readonly IReadOnlyList<string> Operators = [">", ">=", "<", "<="];
    public static readonly IReadOnlyList<string> States = [AlertStates.Pending, AlertStates.Firing, AlertStates.Resolved];

    /// <summary>info &lt; warning &lt; critical, for a channel's minimum severity.</summary>
    public static int Rank(string severity) => severity switch { "critical" => 3, "warning" => 2, _ => 1 };
}

public static class AlertStates
{
    public const string Pending = "pending";
    public const string Firing = "firing";
    public const string Resolved = "resolved";
}

// ---- alerts --------------------------------------------------------------------------------------

public sealed record AlertInstance(
    long Id,
    long RuleId,
    string RuleName,
    string Kind,
    string Severity,
    long DeviceId,
    string DeviceIp,
    string? DeviceHostname,
    IReadOnlyDictionary<string, string> Labels,
    string State,
    double? Value,
    string? Reason,
    DateTimeOffset PendingSince,
    DateTimeOffset? FiredAt,
    DateTimeOffset? ResolvedAt,
    string? AcknowledgedBy,
    DateTimeOffset? AcknowledgedAt,
    string? AckComment);

public sealed record AlertQuery(string? State = null, string? Severity = null, string? Tag = null, long? DeviceId = null, string? Cursor = null, int? Limit = null);

[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record AcknowledgeRequest(string? Comment = null);

// ---- channels ------------------------------------------------------------------------------------

[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record ChannelRequest(
    string? Name = null,
    string? Kind = null,
    string? Url = null,
    string? SigningSecret = null,
    string? SmtpHost = null,
    int? SmtpPort = null,
    string? SmtpSecurity = null,
    string? SmtpUser = null,
    string? SmtpPassword = null,
    string? EmailFrom = null,
    IReadOnlyList<string>? EmailTo = null,
    string? SmtpTlsCertificateSha256 = null,
    string? SmtpTlsCaPem = null,
    bool? RouteAll = null,
    string? MinSeverity = null,
    IReadOnlyList<string>? MatchTags = null,
    bool? SendResolved = null,
    int? RepeatIntervalSeconds = null)
{
    public override string ToString() => $"ChannelRequest {{ Name = {Name}, Kind = {Kind} }}";
}

/// <summary>What the API shows of a channel: settings and delivery state, never a URL, secret or password.</summary>
public sealed record Channel(
    long Id,
    string Name,
    string Kind,
    string? SmtpHost,
    int? SmtpPort,
    string? SmtpSecurity,
    string? SmtpUser,
    string? EmailFrom,
    IReadOnlyList<string>? EmailTo,
    string? SmtpTlsCertificateSha256,
    string? SmtpTlsCaPem,
    bool RouteAll,
    string MinSeverity,
    IReadOnlyList<string> MatchTags,
    bool SendResolved,
    int RepeatIntervalSeconds,
    string SecretKeyId,
    DateTimeOffset? LastDeliveredAt,
    string? LastDeliveryError,
    DateTimeOffset? LastDeliveryErrorAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

public static class ChannelKinds
{
    public const string Webhook = "webhook";
    public const string Slack = "slack";
    public const string Teams = "teams";
    public const string Email = "email";
    public static readonly IReadOnlyList<string> All = [Webhook, Slack, Teams, Email];
    public static readonly IReadOnlyList<string> SmtpSecurities = ["none", "starttls", "tls"];
}

/// <summary>
/// Non-secret channel settings as stored (jsonb). The SMTP server's certificate is trusted by the
/// system's roots, or, when set, by its pinned SHA-256 fingerprint or the channel's own CA certificates (PEM).
/// </summary>
public sealed record ChannelSettings(
    string? SmtpHost = null,
    int? SmtpPort = null,
    string? SmtpSecurity = null,
    string? SmtpUser = null,
    string? EmailFrom = null,
    IReadOnlyList<string>? EmailTo = null,
    string? SmtpTlsCertificateSha256 = null,
    string? SmtpTlsCaPem = null);

/// <summary>Sealed channel secrets: never returned, logged or queued.</summary>
public sealed record ChannelSecrets(string? Url = null, string? SigningSecret = null, string? SmtpPassword = null)
{
    public override string ToString() => "ChannelSecrets { *** }";
}

public sealed record TestNotificationResult(bool Delivered, string? Error);

// ---- maintenance windows and silences ----------------------------------------------------------

[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record MaintenanceWindowRequest(
    string? Name = null,
    string? Kind = null,
    DateTimeOffset? StartsAt = null,
    DateTimeOffset? EndsAt = null,
    IReadOnlyList<string>? Weekdays = null,
    string? StartTime = null,
    string? Cron = null,
    int? DurationSeconds = null,
    string? TimeZone = null,
    IReadOnlyList<string>? ScopeTags = null,
    IReadOnlyList<long>? ScopeDeviceIds = null,
    bool? SuppressDeactivation = null);

public sealed record MaintenanceWindow(
    long Id,
    string Name,
    string Kind,
    DateTimeOffset? StartsAt,
    DateTimeOffset? EndsAt,
    IReadOnlyList<string> Weekdays,
    string? StartTime,
    string? Cron,
    int? DurationSeconds,
    string TimeZone,
    IReadOnlyList<string> ScopeTags,
    IReadOnlyList<long> ScopeDeviceIds,
    bool SuppressDeactivation,
    bool ActiveNow,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record SilenceRequest(long? AlertId = null, long? RuleId = null, long? DeviceId = null, DateTimeOffset? EndsAt = null, string? Reason = null);

public sealed record Silence(long Id, long? AlertId, long? RuleId, long? DeviceId, DateTimeOffset EndsAt, string CreatedBy, string Reason, DateTimeOffset CreatedAt);
