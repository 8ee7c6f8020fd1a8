namespace Nms.Core.Health;

/// <summary>A device's failure counters as stored in <c>devices</c>.</summary>
public readonly record struct FailureState(int Count, DateTimeOffset? LastFailureAt);

/// <summary>What one failure event does to a device's counters.</summary>
public enum FailureEffect
{
    /// <summary>The event is newer than the last failure (or the first one): counted, and "last failure" moves to it.</summary>
    Counted,

    /// <summary>The event is older than the last failure but within the window of it: counted, "last failure" stays.</summary>
    CountedLate,

    /// <summary>The event is older than the last failure by the window or more: not counted, nothing changes.</summary>
    IgnoredStale,
}

/// <summary><paramref name="ReachesThreshold"/>: a counted event left the count at or above the threshold (an active device is deactivated).</summary>
public readonly record struct FailureDecision(FailureEffect Effect, FailureState State, bool ReachesThreshold);

/// <summary>
/// The seed's sliding window (FailureService), as a pure function so it can be tested at its
/// boundaries without a database. Let L be the last failure time, t the event's own time, W the window:
/// <list type="bullet">
/// <item>no last failure: count = 1, L = t;</item>
/// <item>t ≥ L and t − L &lt; W: count + 1, L = t;</item>
/// <item>t ≥ L and t − L ≥ W: count = 1, L = t;</item>
/// <item>t &lt; L (out of order) and L − t &lt; W: count + 1, L unchanged (the event belongs to the burst that ends at L);</item>
/// <item>t &lt; L and L − t ≥ W: ignored, nothing changes (it may belong to an older burst; counting it could only over-count);</item>
/// <item>t before the device's last reactivation: ignored (it belongs to the outage that ended).</item>
/// </list>
/// "Last failure" therefore never moves backwards, and the count is never higher than in-order
/// processing of the same events would make it. A counted event that leaves the count at or above
/// the threshold deactivates the (active) device; the consumer's row lock and the status change make
/// that happen exactly once.
/// </summary>
public static class FailureWindow
{
    /// <param name="reactivatedAt">
    /// When the device last came back (recovery probe, or an operator's PATCH that sets it): a failure
    /// that happened before it belongs to the outage that already ended, and is ignored.
    /// </param>
    public static FailureDecision Apply(FailureState current, DateTimeOffset occurredAt, TimeSpan window, int threshold, DateTimeOffset? reactivatedAt = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(threshold, 1);

        FailureEffect effect;
        FailureState next;
        if (occurredAt < reactivatedAt)
        {
            return new FailureDecision(FailureEffect.IgnoredStale, current, false);
        }

        if (current.LastFailureAt is not { } last)
        {
            effect = FailureEffect.Counted;
            next = new FailureState(1, occurredAt);
        }
        else if (occurredAt >= last)
        {
            effect = FailureEffect.Counted;
            next = occurredAt - last < window
                ? new FailureState(SaturatingIncrement(current.Count), occurredAt)
                : new FailureState(1, occurredAt);
        }
        else if (last - occurredAt < window)
        {
            effect = FailureEffect.CountedLate;
            next = current with { Count = SaturatingIncrement(current.Count) };
        }
        else
        {
            return new FailureDecision(FailureEffect.IgnoredStale, current, false);
        }

        return new FailureDecision(effect, next, next.Count >= threshold);
    }

    private static int SaturatingIncrement(int count) => count == int.MaxValue ? count : Math.Max(0, count) + 1;
}
