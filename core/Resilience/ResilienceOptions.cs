namespace Nms.Core.Resilience;

/// <summary>Settings under <c>Nms:Resilience</c>: how long a consumer holds a message while a dependency is down.</summary>
public sealed class ResilienceOptions
{
    public const string Section = "Nms:Resilience";

    /// <summary>
    /// The longest one invocation holds its message while PostgreSQL or the queue service is down, before it gives
    /// the attempt up. Below host.json's functionTimeout (5 min): a timed-out invocation costs the worker process.
    /// </summary>
    public int MaxHoldSeconds { get; set; } = 240;

    /// <summary>How often an open circuit probes its dependency.</summary>
    public int ProbeIntervalMilliseconds { get; set; } = 1_000;

    /// <summary>A probe slower than this counts as down.</summary>
    public int ProbeTimeoutMilliseconds { get; set; } = 2_000;

    /// <summary>In-attempt retries of a transient error while the dependency answers its probe (a blip, a restart's broken pooled connections).</summary>
    public int BlipRetries { get; set; } = 3;
}
