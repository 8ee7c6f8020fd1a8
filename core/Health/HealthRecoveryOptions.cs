namespace Nms.Core.Health;

/// <summary>
/// The recovery probe's and the consumer's tuning, bound from the same <c>Nms:Health</c> section as
/// <see cref="Configuration.HealthOptions"/> (env <c>Nms__Health__RecoveryBackoffBaseSeconds</c>, ...).
/// The switch itself is <see cref="Configuration.HealthOptions.RecoveryProbeEnabled"/> (default off).
/// </summary>
public sealed class HealthRecoveryOptions
{
    /// <summary>First probe this long after the deactivation; then doubling per failed probe.</summary>
    public int RecoveryBackoffBaseSeconds { get; set; } = 60;

    /// <summary>The longest gap between two probes of one device.</summary>
    public int RecoveryBackoffCapSeconds { get; set; } = 3_600;

    /// <summary>Devices probed per timer run (per instance).</summary>
    public int RecoveryBatchSize { get; set; } = 50;

    /// <summary>The plugin's discovery timeout for a probe.</summary>
    public int RecoveryProbeTimeoutMilliseconds { get; set; } = 5_000;

    /// <summary>
    /// How long processed failure event ids are kept for idempotence. Longer than a storage queue
    /// message lives (7 days), so no redelivery can outlive its id.
    /// </summary>
    public int FailureEventRetentionDays { get; set; } = 8;
}

/// <summary>When the recovery probe looks at a device again.</summary>
public static class RecoveryBackoff
{
    /// <summary>
    /// The gap before the next probe after <paramref name="failedAttempts"/> failed probes:
    /// min(base · 2^failedAttempts, cap). So base, 2·base, 4·base, ... up to cap, then every cap.
    /// </summary>
    public static TimeSpan Delay(int failedAttempts, TimeSpan baseDelay, TimeSpan cap)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failedAttempts, 0);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(baseDelay, TimeSpan.Zero);
        if (cap < baseDelay)
        {
            cap = baseDelay;
        }

        // 2^30 · base overflows nothing and is far past any sane cap.
        var factor = Math.Pow(2, Math.Min(failedAttempts, 30));
        var ticks = baseDelay.Ticks * factor;
        return ticks >= cap.Ticks ? cap : TimeSpan.FromTicks((long)ticks);
    }
}
