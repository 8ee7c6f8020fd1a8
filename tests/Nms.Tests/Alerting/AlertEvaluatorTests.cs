using Nms.Core.Alerting;
using Npgsql;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Alerting;

/// <summary>Evaluation against real PostgreSQL with a fake clock: states, the outbox, maintenance, silences, repeats, the lock.</summary>
public sealed class AlertEvaluatorTests : IAsyncLifetime
{
    private AlertingDatabase db = null!;

    public async Task InitializeAsync() => db = await AlertingDatabase.CreateAsync();

    public async Task DisposeAsync() => await db.DisposeAsync();

    private Task<AlertRule> RuleAsync(AlertRuleRequest request) => db.Rules.CreateAsync(request, CancellationToken.None);

    private Task<AlertRule> DeviceDownAsync(params long[] channels) =>
        RuleAsync(new AlertRuleRequest(Name: "down", Kind: "device_down", Severity: "critical", ChannelIds: channels));

    [Fact]
    public async Task Device_down_fires_once_with_one_outbox_row_per_channel_and_resolves_once_after_reactivation()
    {
        var a = await db.ChannelAsync("a", "http://127.0.0.1:1/a");
        var b = await db.ChannelAsync("b", "http://127.0.0.1:1/b");
        var quiet = await db.ChannelAsync("no-resolved", "http://127.0.0.1:1/c", sendResolved: false);
        await DeviceDownAsync(a, b, quiet);
        var device = await db.AddDeviceAsync("10.0.0.1");
        var neighbour = await db.AddDeviceAsync("10.0.0.2");

        await db.EvaluateAsync();
        Assert.Empty(await db.OutboxAsync());

        await db.DeactivateAsync(device);
        await db.EvaluateAsync();
        db.Time.Advance(TimeSpan.FromSeconds(30));
        await db.EvaluateAsync();

        Assert.Equal([$"firing@{a}", $"firing@{b}", $"firing@{quiet}"], await db.OutboxAsync());
        var alert = Assert.Single((await db.Alerts.ListAsync(new AlertQuery(), CancellationToken.None)).Items);
        Assert.Equal((device, AlertStates.Firing, "critical"), (alert.DeviceId, alert.State, alert.Severity));
        Assert.Contains("snmp timeout", alert.Reason, StringComparison.Ordinal);

        await db.ReactivateAsync(device);
        await db.EvaluateAsync();
        await db.EvaluateAsync();

        Assert.Equal([$"firing@{a}", $"firing@{b}", $"firing@{quiet}", $"resolved@{a}", $"resolved@{b}"], await db.OutboxAsync());
        Assert.Equal(AlertStates.Resolved, (await db.Alerts.GetAsync(alert.Id, CancellationToken.None)).State);
        Assert.Equal(0, await db.CountAsync("SELECT count(*) FROM alert_instances WHERE device_id = $1", neighbour));
    }

    [Fact]
    public async Task A_manual_deactivation_is_not_a_device_down_alert_but_consecutive_failures_are_when_the_rule_asks()
    {
        await RuleAsync(new AlertRuleRequest(Name: "down", Kind: "device_down", Severity: "critical", FailureCount: 2));
        var manual = await db.AddDeviceAsync("10.0.1.1");
        var failing = await db.AddDeviceAsync("10.0.1.2");
        await db.Database.DataSource.DeactivateByOperatorAsync(manual);
        await db.Database.DataSource.RecordFailureCountAsync(failing, 2, db.Time.GetUtcNow(), "ping");

        await db.EvaluateAsync();

        var alert = Assert.Single((await db.Alerts.ListAsync(new AlertQuery(State: "firing"), CancellationToken.None)).Items);
        Assert.Equal(failing, alert.DeviceId);
        Assert.StartsWith("2 consecutive failures", alert.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pending_duration_delays_firing_and_the_notification()
    {
        var channel = await db.ChannelAsync("a", "http://127.0.0.1:1/a");
        await RuleAsync(new AlertRuleRequest(Name: "down", Kind: "device_down", Severity: "critical", ForSeconds: 60, ChannelIds: [channel]));
        var device = await db.AddDeviceAsync("10.0.2.1");
        await db.DeactivateAsync(device);

        await db.EvaluateAsync();
        Assert.Equal(AlertStates.Pending, Assert.Single((await db.Alerts.ListAsync(new AlertQuery(), CancellationToken.None)).Items).State);
        db.Time.Advance(TimeSpan.FromSeconds(59));
        await db.EvaluateAsync();
        Assert.Empty(await db.OutboxAsync());

        db.Time.Advance(TimeSpan.FromSeconds(1));
        await db.EvaluateAsync();

        Assert.Equal([$"firing@{channel}"], await db.OutboxAsync());
    }

    [Fact]
    public async Task A_value_crossing_up_and_down_around_the_threshold_fires_once_and_resolves_once()
    {
        var channel = await db.ChannelAsync("a", "http://127.0.0.1:1/a");
        await RuleAsync(new AlertRuleRequest(Name: "cpu", Kind: "threshold", Severity: "warning", Metric: "cpu_load_percent", WindowSeconds: 60,
            Op: ">", Threshold: 90, RecoveryOp: "<", RecoveryThreshold: 80, ChannelIds: [channel]));
        var device = await db.AddDeviceAsync("10.0.3.1");

        var history = new List<string>();
        foreach (var value in new double[] { 50, 95, 85, 92, 88, 81, 93, 70, 85, 89, 60 })
        {
            db.Time.Advance(TimeSpan.FromSeconds(10));
            await db.SampleAsync(device, "cpu_load_percent", value);
            await db.EvaluateAsync();
            history.Add($"{value}:{string.Join(",", await db.OutboxAsync())}");
        }

        Assert.Equal([$"firing@{channel}", $"resolved@{channel}"], await db.OutboxAsync());
        Assert.Equal($"95:firing@{channel}", history[1]);
        Assert.Equal($"70:firing@{channel},resolved@{channel}", history[7]);
    }

    [Fact]
    public async Task Rate_of_a_counter_is_reset_aware_and_one_alert_per_interface()
    {
        await RuleAsync(new AlertRuleRequest(Name: "errors", Kind: "threshold", Severity: "warning", Metric: "if_in_errors_total", Fn: "rate", WindowSeconds: 120, Op: ">", Threshold: 5));
        var device = await db.AddDeviceAsync("10.0.4.1");
        const string eth0 = """{"interface": "eth0", "if_index": "1"}""";
        const string eth1 = """{"interface": "eth1", "if_index": "2"}""";
        // eth0: 0 → 600 → (reset) 300 over 60 s: increase 900 = 15/s. eth1: 1 per second.
        foreach (var (v0, v1) in new[] { (0d, 0d), (600d, 30d), (300d, 60d) })
        {
            await db.SampleAsync(device, "if_in_errors_total", v0, eth0);
            await db.SampleAsync(device, "if_in_errors_total", v1, eth1);
            db.Time.Advance(TimeSpan.FromSeconds(30));
        }

        await db.EvaluateAsync();

        var alert = Assert.Single((await db.Alerts.ListAsync(new AlertQuery(), CancellationToken.None)).Items);
        Assert.Equal("eth0", alert.Labels["interface"]);
        Assert.Equal(15, alert.Value!.Value, 3);
    }

    [Fact]
    public async Task Interface_down_is_oper_status_not_up_while_admin_status_is_up()
    {
        await RuleAsync(new AlertRuleRequest(Name: "ifdown", Kind: "interface_down", Severity: "critical"));
        var device = await db.AddDeviceAsync("10.0.5.1");
        var labels = (string name) => $$"""{"interface": "{{name}}", "if_index": "1"}""";
        await db.SampleAsync(device, "if_oper_status", 2, labels("down-but-admin-up"));
        await db.SampleAsync(device, "if_admin_status", 1, labels("down-but-admin-up"));
        await db.SampleAsync(device, "if_oper_status", 2, labels("shut"));
        await db.SampleAsync(device, "if_admin_status", 2, labels("shut"));
        await db.SampleAsync(device, "if_oper_status", 1, labels("up"));
        await db.SampleAsync(device, "if_admin_status", 1, labels("up"));

        await db.EvaluateAsync();

        Assert.Equal("down-but-admin-up", Assert.Single((await db.Alerts.ListAsync(new AlertQuery(), CancellationToken.None)).Items).Labels["interface"]);
    }

    [Fact]
    public async Task During_a_maintenance_window_over_the_device_tag_the_alert_changes_state_but_nobody_is_notified()
    {
        var channel = await db.ChannelAsync("a", "http://127.0.0.1:1/a");
        await DeviceDownAsync(channel);
        var device = await db.AddDeviceAsync("10.0.6.1", "site=ams1");
        var elsewhere = await db.AddDeviceAsync("10.0.6.2", "site=fra1");
        await db.Maintenance.CreateAsync(new MaintenanceWindowRequest(Name: "ams1 works", Kind: "one_off", StartsAt: db.Time.GetUtcNow().AddMinutes(-1),
            EndsAt: db.Time.GetUtcNow().AddHours(1), ScopeTags: ["site=ams1"]), CancellationToken.None);

        await db.DeactivateAsync(device);
        await db.DeactivateAsync(elsewhere);
        await db.EvaluateAsync();
        await db.ReactivateAsync(device);
        await db.EvaluateAsync();

        Assert.Equal([$"firing@{channel}"], await db.OutboxAsync());
        Assert.Equal(1, await db.CountAsync("SELECT count(*) FROM alert_instances WHERE device_id = $1 AND state = 'resolved'", device));
        Assert.Equal(2, await db.CountAsync("SELECT count(*) FROM alert_events e JOIN alert_instances i ON i.id = e.instance_id WHERE i.device_id = $1 AND e.kind = 'notification_suppressed'", device));
        Assert.Equal(1, await db.CountAsync("SELECT count(*) FROM alert_notifications n JOIN alert_instances i ON i.id = n.instance_id WHERE i.device_id = $1", elsewhere));
    }

    [Fact]
    public async Task A_silenced_rule_on_a_device_notifies_nobody_until_the_silence_ends()
    {
        var channel = await db.ChannelAsync("a", "http://127.0.0.1:1/a");
        var rule = await DeviceDownAsync(channel);
        var device = await db.AddDeviceAsync("10.0.7.1");
        await db.Alerts.SilenceAsync(new Core.Api.ApiPrincipal("k1", "night-shift", Core.Api.Role.Operator),
            new SilenceRequest(RuleId: rule.Id, DeviceId: device, EndsAt: db.Time.GetUtcNow().AddMinutes(10), Reason: "known outage"), CancellationToken.None);

        await db.DeactivateAsync(device);
        await db.EvaluateAsync();
        Assert.Empty(await db.OutboxAsync());

        // Still firing after the silence: the repeat interval (from when it fired) decides when it is told.
        db.Time.Advance(TimeSpan.FromHours(4));
        await db.EvaluateAsync();
        Assert.Equal([$"repeat@{channel}"], await db.OutboxAsync());
    }

    [Fact]
    public async Task A_still_firing_alert_is_repeated_after_the_channel_repeat_interval()
    {
        var channel = await db.ChannelAsync("a", "http://127.0.0.1:1/a");
        await DeviceDownAsync(channel);
        await db.DeactivateAsync(await db.AddDeviceAsync("10.0.8.1"));
        await db.EvaluateAsync();

        db.Time.Advance(TimeSpan.FromHours(4) - TimeSpan.FromSeconds(1));
        await db.EvaluateAsync();
        Assert.Equal([$"firing@{channel}"], await db.OutboxAsync());

        db.Time.Advance(TimeSpan.FromSeconds(1));
        await db.EvaluateAsync();
        await db.EvaluateAsync();
        Assert.Equal([$"firing@{channel}", $"repeat@{channel}"], await db.OutboxAsync());
    }

    [Fact]
    public async Task Channels_select_rules_by_severity_and_device_tags()
    {
        var all = await db.ChannelAsync("all-critical", "http://127.0.0.1:1/a", routeAll: true);
        await db.Channels.CreateAsync(new ChannelRequest(Name: "ams-warnings", Kind: "slack", Url: "http://127.0.0.1:1/s", RouteAll: true, MinSeverity: "warning", MatchTags: ["site=fra1"]), CancellationToken.None);
        await db.Channels.CreateAsync(new ChannelRequest(Name: "unrouted", Kind: "slack", Url: "http://127.0.0.1:1/u"), CancellationToken.None);
        await DeviceDownAsync();
        await db.DeactivateAsync(await db.AddDeviceAsync("10.0.9.1", "site=ams1"));

        await db.EvaluateAsync();

        Assert.Equal([$"firing@{all}"], await db.OutboxAsync());
    }

    [Fact]
    public async Task Each_channel_gets_one_group_per_evaluation_on_the_queue_and_a_group_left_unqueued_is_sent_by_the_next_run()
    {
        var a = await db.ChannelAsync("a", "http://127.0.0.1:1/a");
        var b = await db.ChannelAsync("b", "http://127.0.0.1:1/b");
        await DeviceDownAsync(a, b);
        foreach (var i in Enumerable.Range(1, 5))
        {
            await db.DeactivateAsync(await db.AddDeviceAsync($"10.0.10.{i}"));
        }

        var first = await db.EvaluateAsync();
        Assert.Equal(10, first.Notifications);
        Assert.Equal([a, b], db.Queue.Notifications.Select(n => n.ChannelId).Order());
        Assert.All(db.Queue.Notifications, n => Assert.Equal(first.EvaluationId, n.EvaluationId));

        // As if the process died after commit, before the relay marked them.
        await db.Database.ExecuteAsync("UPDATE alert_notifications SET enqueued_at = NULL WHERE channel_id = $1", b);
        await db.EvaluateAsync();

        Assert.Equal(3, db.Queue.Notifications.Count);
        Assert.Equal(b, db.Queue.Notifications[^1].ChannelId);
    }

    [Fact]
    public async Task Only_one_evaluation_runs_at_a_time()
    {
        await DeviceDownAsync();
        await db.DeactivateAsync(await db.AddDeviceAsync("10.0.11.1"));
        await using var other = await db.Database.DataSource.OpenConnectionAsync();
        await using (var hold = new NpgsqlCommand("SELECT pg_advisory_lock(7514061420260014)", other))
        {
            await hold.ExecuteNonQueryAsync();
        }

        Assert.False((await db.EvaluateAsync()).Ran);
        Assert.Equal(0, await db.CountAsync("SELECT count(*) FROM alert_instances"));

        await using (var release = new NpgsqlCommand("SELECT pg_advisory_unlock(7514061420260014)", other))
        {
            await release.ExecuteNonQueryAsync();
        }

        Assert.True((await db.EvaluateAsync()).Ran);
        Assert.Equal(1, await db.CountAsync("SELECT count(*) FROM alert_instances"));
    }

    [Fact]
    public async Task Disabling_a_rule_resolves_its_firing_alerts_and_raises_no_new_ones()
    {
        var channel = await db.ChannelAsync("a", "http://127.0.0.1:1/a");
        var rule = await DeviceDownAsync(channel);
        await db.DeactivateAsync(await db.AddDeviceAsync("10.0.14.1"));
        await db.EvaluateAsync();

        await db.Rules.ReplaceAsync(rule.Id, new AlertRuleRequest(Name: "down", Kind: "device_down", Severity: "critical", Enabled: false, ChannelIds: [channel]), CancellationToken.None);
        await db.DeactivateAsync(await db.AddDeviceAsync("10.0.14.2"));
        await db.EvaluateAsync();

        Assert.Equal([$"firing@{channel}", $"resolved@{channel}"], await db.OutboxAsync());
        Assert.Equal("rule disabled", Assert.Single((await db.Alerts.ListAsync(new AlertQuery(), CancellationToken.None)).Items).Reason);
    }

    [Fact]
    public async Task Acknowledging_records_who_when_and_why()
    {
        await DeviceDownAsync();
        await db.DeactivateAsync(await db.AddDeviceAsync("10.0.12.1"));
        await db.EvaluateAsync();
        var alert = Assert.Single((await db.Alerts.ListAsync(new AlertQuery(), CancellationToken.None)).Items);

        var acked = await db.Alerts.AcknowledgeAsync(alert.Id, new Core.Api.ApiPrincipal("k9", "alice", Core.Api.Role.Operator), new AcknowledgeRequest("on it"), CancellationToken.None);

        Assert.Equal(("alice", "on it", db.Time.GetUtcNow()), (acked.AcknowledgedBy, acked.AckComment, acked.AcknowledgedAt!.Value));
    }

    [Fact]
    public async Task Resolved_alerts_past_the_retention_are_removed()
    {
        await DeviceDownAsync();
        var device = await db.AddDeviceAsync("10.0.13.1");
        await db.DeactivateAsync(device);
        await db.EvaluateAsync();
        await db.ReactivateAsync(device);
        await db.EvaluateAsync();

        db.Time.Advance(TimeSpan.FromDays(db.Options.HistoryRetentionDays) - TimeSpan.FromMinutes(1));
        await db.EvaluateAsync();
        Assert.Equal(1, await db.CountAsync("SELECT count(*) FROM alert_instances"));
        db.Time.Advance(TimeSpan.FromMinutes(2));
        await db.EvaluateAsync();
        Assert.Equal(0, await db.CountAsync("SELECT count(*) FROM alert_instances"));
    }
}
