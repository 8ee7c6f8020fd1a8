namespace Nms.Core.Discovery;

/// <summary>A discovery run as the API shows it.</summary>
public sealed record DiscoveryRunView(
    Guid Id,
    long DiscoveryProfileId,
    string Status,
    int Targets,
    int BatchesTotal,
    int BatchesDone,
    int Responded,
    int Provisioned,
    int AlreadyKnown,
    int Failed,
    IReadOnlyList<DiscoveryFailureSample> FailureSamples,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt);

/// <summary>One address that did not turn into a device, and why (never a secret: plugin errors name no credentials).</summary>
public sealed record DiscoveryFailureSample(string Ip, string Error);

/// <summary>What the worker needs from a run and its profile.</summary>
public sealed record DiscoveryRunProfile(
    long ProfileId,
    string Status,
    int Port,
    string Plugin,
    bool PingPrecheck,
    int TimeoutMs,
    int PollIntervalSeconds);

/// <summary>The outcome of one batch, before it is counted.</summary>
public sealed record DiscoveryBatchOutcome(
    IReadOnlyList<DiscoveredDevice> Found,
    IReadOnlyList<DiscoveryFailureSample> Failures);

/// <summary>A target that answered: what the device row is made of.</summary>
public sealed record DiscoveredDevice(string Ip, string? Hostname, string? Description, long? CredentialId, string? HostKey);

/// <summary>What counting a batch did, and the run's totals after it.</summary>
public sealed record DiscoveryBatchCount(bool Duplicate, int Provisioned, int AlreadyKnown, DiscoveryRunTotals? Run)
{
    public static DiscoveryBatchCount AlreadyCounted { get; } = new(true, 0, 0, null);
}

/// <summary>A run's counters as one batch's update left them.</summary>
public sealed record DiscoveryRunTotals(string Status, int Targets, int Responded, int Provisioned, int AlreadyKnown, int Failed);
