using Nms.Core.Alerting;

namespace Nms.Tests.Alerting;

public sealed class AlertTransitionsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly Dictionary<long, RuleTiming> Rules = new() { [1] = new RuleTiming(1, "critical", 0), [2] = new RuleTiming(2, "warning", 60) };

    private static Observation Seen(long rule, bool firing, bool recovered, double value = 1) => new(rule, 7, "{}", value, firing, recovered, "why");

    private static OpenInstance Open(long id, long rule, string state, TimeSpan age) => new(id, rule, 7, "{}", state, Now - age);

    [Fact]
    public void A_firing_condition_without_pending_duration_creates_a_firing_alert()
    {
        var plan = AlertTransitions.Plan([Seen(1, true, false)], [], Rules, Now);

        Assert.Equal(AlertStates.Firing, Assert.Single(plan.Created).State);
    }

    [Fact]
    public void A_rule_with_a_pending_duration_creates_a_pending_alert_that_fires_only_once_the_duration_passed()
    {
        Assert.Equal(AlertStates.Pending, Assert.Single(AlertTransitions.Plan([Seen(2, true, false)], [], Rules, Now).Created).State);

        Assert.Empty(AlertTransitions.Plan([Seen(2, true, false)], [Open(5, 2, AlertStates.Pending, TimeSpan.FromSeconds(59))], Rules, Now).Changed);
        var fired = AlertTransitions.Plan([Seen(2, true, false)], [Open(5, 2, AlertStates.Pending, TimeSpan.FromSeconds(60))], Rules, Now);
        Assert.Equal(new InstanceChange(5, AlertStates.Firing, 1, "why"), Assert.Single(fired.Changed));
    }

    [Fact]
    public void A_pending_alert_whose_condition_stops_is_dropped_not_resolved()
    {
        var plan = AlertTransitions.Plan([Seen(2, false, true)], [Open(5, 2, AlertStates.Pending, TimeSpan.FromSeconds(10))], Rules, Now);

        Assert.Equal([5L], plan.Dropped);
        Assert.Empty(plan.Changed);
    }

    [Fact]
    public void Inside_the_hysteresis_band_a_firing_alert_stays_firing()
    {
        var plan = AlertTransitions.Plan([Seen(1, firing: false, recovered: false, value: 85)], [Open(5, 1, AlertStates.Firing, TimeSpan.FromMinutes(5))], Rules, Now);

        Assert.Empty(plan.Changed);
        Assert.Empty(plan.Created);
        Assert.Empty(plan.Dropped);
    }

    [Fact]
    public void The_recovery_condition_resolves_a_firing_alert()
    {
        var plan = AlertTransitions.Plan([Seen(1, false, true, 70)], [Open(5, 1, AlertStates.Firing, TimeSpan.FromMinutes(5))], Rules, Now);

        Assert.Equal(AlertStates.Resolved, Assert.Single(plan.Changed).State);
    }

    [Fact]
    public void An_open_alert_no_longer_observed_resolves_when_firing_and_is_dropped_when_pending()
    {
        var plan = AlertTransitions.Plan([], [Open(5, 1, AlertStates.Firing, TimeSpan.FromMinutes(5)), Open(6, 2, AlertStates.Pending, TimeSpan.FromSeconds(5))], Rules, Now);

        Assert.Equal(5, Assert.Single(plan.Changed).Id);
        Assert.Equal([6L], plan.Dropped);
    }

    [Fact]
    public void A_disabled_rule_raises_nothing_new_and_its_firing_alerts_resolve()
    {
        var plan = AlertTransitions.Plan([Seen(9, true, false)], [Open(5, 9, AlertStates.Firing, TimeSpan.FromMinutes(5))], Rules, Now);

        Assert.Empty(plan.Created);
        Assert.Equal(new InstanceChange(5, AlertStates.Resolved, null, "rule disabled"), Assert.Single(plan.Changed));
    }
}
