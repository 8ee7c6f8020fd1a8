using Nms.Core.Alerting;
using Nms.Core.Api;

namespace Nms.Tests.Alerting;

public sealed class AlertRuleValidationTests
{
    private static AlertRuleRequest Threshold(string op = ">", double threshold = 90, string? recoveryOp = null, double? recovery = null) =>
        new(Name: "cpu", Kind: "threshold", Severity: "warning", Metric: "cpu_load_percent", Op: op, Threshold: threshold, RecoveryOp: recoveryOp, RecoveryThreshold: recovery);

    private static string FieldOf(Action action) => Assert.Throws<ProblemException>(action).Field!;

    [Theory]
    [InlineData(">", "<=")]
    [InlineData(">=", "<")]
    [InlineData("<", ">=")]
    [InlineData("<=", ">")]
    public void A_threshold_without_recovery_resolves_when_the_same_threshold_no_longer_holds(string op, string expected)
    {
        var valid = AlertRuleService.Validate(Threshold(op, 90));

        Assert.Equal((expected, 90d), (valid.RecoveryOp, valid.RecoveryThreshold));
    }

    [Fact]
    public void A_recovery_threshold_alone_takes_the_opposite_comparison()
    {
        var valid = AlertRuleService.Validate(Threshold(">", 90, recovery: 80));

        Assert.Equal(("<=", 80d), (valid.RecoveryOp, valid.RecoveryThreshold));
    }

    [Theory]
    [InlineData(">", 90, "<", 95)]
    [InlineData(">", 90, ">", 50)]
    [InlineData(">=", 90, "<=", 90)]
    [InlineData("<", 10, ">", 5)]
    public void A_recovery_condition_overlapping_the_firing_one_is_refused(string op, double threshold, string recoveryOp, double recovery)
    {
        Assert.Equal("recovery_threshold", FieldOf(() => AlertRuleService.Validate(Threshold(op, threshold, recoveryOp, recovery))));
    }

    [Theory]
    [InlineData(">", 90, "<", 90)]
    [InlineData(">=", 90, "<", 90)]
    [InlineData(">", 90, "<=", 90)]
    [InlineData("<", 10, ">=", 20)]
    public void A_recovery_condition_that_excludes_the_firing_one_is_accepted(string op, double threshold, string recoveryOp, double recovery)
    {
        Assert.Equal(recovery, AlertRuleService.Validate(Threshold(op, threshold, recoveryOp, recovery)).RecoveryThreshold);
    }

    public static TheoryData<AlertRuleRequest, string> BadRules => new()
    {
        { new AlertRuleRequest(Kind: "device_down", Severity: "critical"), "name" },
        { new AlertRuleRequest(Name: "x", Severity: "critical"), "kind" },
        { new AlertRuleRequest(Name: "x", Kind: "device_down"), "severity" },
        { new AlertRuleRequest(Name: "x", Kind: "device_down", Severity: "urgent"), "severity" },
        { new AlertRuleRequest(Name: "x", Kind: "device_down", Severity: "info", Metric: "cpu_load_percent"), "metric" },
        { new AlertRuleRequest(Name: "x", Kind: "device_down", Severity: "info", ScopeTags: ["site"]), "scope_tags[0]" },
        { new AlertRuleRequest(Name: "x", Kind: "device_down", Severity: "info", ScopeTags: ["site=a"], ScopeDeviceIds: [1]), "scope_device_ids" },
        { new AlertRuleRequest(Name: "x", Kind: "device_down", Severity: "info", ScopeDeviceIds: [1, 0]), "scope_device_ids[1]" },
        { new AlertRuleRequest(Name: "x", Kind: "device_down", Severity: "info", ForSeconds: -1), "for_seconds" },
        { new AlertRuleRequest(Name: "x", Kind: "threshold", Severity: "info", Metric: "m", Op: ">", Threshold: 1, FailureCount: 3), "failure_count" },
        { new AlertRuleRequest(Name: "x", Kind: "threshold", Severity: "info", Op: ">", Threshold: 1), "metric" },
        { new AlertRuleRequest(Name: "x", Kind: "threshold", Severity: "info", Metric: "m", Threshold: 1), "op" },
        { new AlertRuleRequest(Name: "x", Kind: "threshold", Severity: "info", Metric: "m", Op: "=", Threshold: 1), "op" },
        { new AlertRuleRequest(Name: "x", Kind: "threshold", Severity: "info", Metric: "m", Op: ">"), "threshold" },
        { new AlertRuleRequest(Name: "x", Kind: "threshold", Severity: "info", Metric: "m", Op: ">", Threshold: 1, Fn: "median"), "fn" },
        { new AlertRuleRequest(Name: "x", Kind: "threshold", Severity: "info", Metric: "m", Op: ">", Threshold: 1, WindowSeconds: 20_000), "window_seconds" },
        { new AlertRuleRequest(Name: "x", Kind: "threshold", Severity: "info", Metric: "m", Op: ">", Threshold: 1, ChannelIds: [-4]), "channel_ids[0]" },
    };

    [Theory]
    [MemberData(nameof(BadRules))]
    public void Every_invalid_rule_is_a_400_naming_its_field(AlertRuleRequest rule, string field)
    {
        var problem = Assert.Throws<ProblemException>(() => AlertRuleService.Validate(rule));

        Assert.Equal((400, field), (problem.Status, problem.Field));
    }
}
