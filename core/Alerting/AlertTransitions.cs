namespace Nms.Core.Alerting;

/// <summary>What one rule says about one (device, label set) now.</summary>
public sealed record Observation(long RuleId, long DeviceId, string Labels, double? Value, bool Firing, bool Recovered, string? Reason);

public sealed record OpenInstance(long Id, long RuleId, long DeviceId, string Labels, string State, DateTimeOffset PendingSince);

public sealed record RuleTiming(long Id, string Severity, int ForSeconds);

public sealed record NewInstance(long RuleId, long DeviceId, string Labels, string State, string Severity, double? Value, string? Reason);

public sealed record InstanceChange(long Id, string State, double? Value, string? Reason);

public sealed record AlertPlan(IReadOnlyList<NewInstance> Created, IReadOnlyList<InstanceChange> Changed, IReadOnlyList<long> Dropped);

/// <summary>
/// The state machine, as a pure function: pending → firing after the rule's <c>for</c>, firing →
/// resolved only when the recovery condition holds (hysteresis: between the two thresholds nothing
/// changes), a pending alert whose condition stops is dropped (it never was an alert). An open alert
/// with no observation (device out of scope or deleted, no data in the window) or whose rule was
/// disabled resolves.
/// </summary>
public static class AlertTransitions
{
    public static AlertPlan Plan(IEnumerable<Observation> observations, IEnumerable<OpenInstance> open, IReadOnlyDictionary<long, RuleTiming> rules, DateTimeOffset now)
    {
        var openByKey = open.ToDictionary(i => (i.RuleId, i.DeviceId, i.Labels));
        var created = new List<NewInstance>();
        var changed = new List<InstanceChange>();
        var dropped = new List<long>();
        foreach (var seen in observations)
        {
            if (!rules.TryGetValue(seen.RuleId, out var rule))
            {
                continue;
            }

            var key = (seen.RuleId, seen.DeviceId, seen.Labels);
            if (!openByKey.Remove(key, out var instance))
            {
                if (seen.Firing)
                {
                    created.Add(new NewInstance(seen.RuleId, seen.DeviceId, seen.Labels, rule.ForSeconds == 0 ? AlertStates.Firing : AlertStates.Pending, rule.Severity, seen.Value, seen.Reason));
                }

                continue;
            }

            if (instance.State == AlertStates.Pending)
            {
                if (!seen.Firing)
                {
                    dropped.Add(instance.Id);
                }
                else if (now - instance.PendingSince >= TimeSpan.FromSeconds(rule.ForSeconds))
                {
                    changed.Add(new InstanceChange(instance.Id, AlertStates.Firing, seen.Value, seen.Reason));
                }
            }
            else if (seen.Recovered && !seen.Firing)
            {
                changed.Add(new InstanceChange(instance.Id, AlertStates.Resolved, seen.Value, seen.Reason));
            }
        }

        // Nothing observed (or the rule was disabled): pending alerts go, firing ones resolve.
        foreach (var instance in openByKey.Values)
        {
            if (instance.State == AlertStates.Pending)
            {
                dropped.Add(instance.Id);
            }
            else
            {
                var why = rules.ContainsKey(instance.RuleId) ? "condition no longer observed (device out of scope or no data)" : "rule disabled";
                changed.Add(new InstanceChange(instance.Id, AlertStates.Resolved, null, why));
            }
        }

        return new AlertPlan(created, changed, dropped);
    }
}
