using System.Text.Json;
using Nms.Core.Alerting;
using Nms.Core.Health;
using Nms.Core.Metrics;
using Nms.Tests.Health;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Alerting;

/// <summary>
/// Alerting as a user meets it: the local host with real PostgreSQL, Azurite queues, snmpd, the
/// published snmp plugin, a real HTTP receiver for webhook, Slack and Teams, and aiosmtpd for email.
/// </summary>
public sealed class AlertingEndToEndTests
{
    private static FailureEvent Failure(long device) => new(Guid.NewGuid(), device, FailureEvent.PollReason, "snmp timeout", DateTimeOffset.UtcNow);

    [Fact]
    public async Task Agent_that_stops_fires_one_notification_per_channel_and_one_resolved_once_the_probe_reactivates_it()
    {
        using var receiver = new TestReceiver();
        await using var smtp = await SmtpServer.StartAsync();
        await using var agent = await SnmpAgent.StartAsync("127.22.0.1", "edge-agent");
        await using var app = await AlertingHost.StartAsync(o =>
        {
            o.EnabledTimers.Add("PollScheduler");
            o.EnabledTimers.Add("HealthRecoveryProbe");
            o.Settings["NmsSchedulerSchedule"] = "*/1 * * * * *";
            o.Settings["NmsRecoverySchedule"] = "*/1 * * * * *";
            o.Settings["Nms:Plugins:Directory"] = TestEnvironment.PluginsDirectory;
            o.Settings["Nms:Plugins:RunTimeoutSeconds"] = "5";
            o.Settings["Nms:Polling:TimeoutMilliseconds"] = "500";
            o.Settings["Nms:Reachability:TimeoutMilliseconds"] = "300";
            o.Settings["Nms:Reachability:Retries"] = "0";
            o.Settings["Nms:Health:Threshold"] = "2";
            o.Settings["Nms:Health:WindowSeconds"] = "60";
            o.Settings["Nms:Health:RecoveryProbeEnabled"] = "true";
            o.Settings["Nms:Health:RecoveryBackoffBaseSeconds"] = "1";
            o.Settings["Nms:Health:RecoveryBackoffCapSeconds"] = "2";
        });
        var channels = new[]
        {
            await app.WebhookAsync("hook", receiver.Url("hook")),
            (await app.PostAsync("notification_channels", new { name = "slack", kind = "slack", url = receiver.Url("slack/T0/B0/token") })).GetProperty("id").GetInt64(),
            (await app.PostAsync("notification_channels", new { name = "teams", kind = "teams", url = receiver.Url("teams/workflow") })).GetProperty("id").GetInt64(),
            (await app.PostAsync("notification_channels", new { name = "mail", kind = "email", smtp_host = smtp.Host, smtp_port = smtp.Port, smtp_security = "none",
                email_from = "nms@example.test", email_to = new[] { "ops@example.test" } })).GetProperty("id").GetInt64(),
        };
        await app.DeviceDownRuleAsync(channels);
        var device = await app.AddDeviceAsync(agent.Ip, agent.Port, await app.CommunityCredentialAsync(), interval: 10);
        await TestApp.EventuallyAsync(async () => await app.Database.ScalarAsync<long>("SELECT count(*) FROM metric_samples WHERE device_id = $1", device) > 0, "the device polled", TimeSpan.FromSeconds(30));

        await agent.StopAsync();

        int Count(string path) => receiver.Accepted.Count(r => r.Path.StartsWith(path, StringComparison.Ordinal));
        bool All(int n) => Count("/hook") == n && Count("/slack") == n && Count("/teams") == n && smtp.Messages().Count == n;
        await TestApp.EventuallyAsync(() => Task.FromResult(All(1)), "one firing notification on every channel", TimeSpan.FromSeconds(60));
        var firing = receiver.Accepted.Single(r => r.Path == "/hook");
        using (var body = JsonDocument.Parse(firing.Body))
        {
            var alert = Assert.Single(body.RootElement.GetProperty("alerts").EnumerateArray());
            Assert.Equal(("firing", device, agent.Ip), (alert.GetProperty("transition").GetString(), alert.GetProperty("device_id").GetInt64(), alert.GetProperty("device_ip").GetString()));
            Assert.Contains("deactivated (poll)", alert.GetProperty("reason").GetString(), StringComparison.Ordinal);
        }

        Assert.Contains(agent.Ip, smtp.Messages()[0], StringComparison.Ordinal);

        await agent.StartAsync();

        await TestApp.EventuallyAsync(() => Task.FromResult(All(2)), "one resolved notification on every channel", TimeSpan.FromSeconds(60));
        Assert.Equal("active", await app.StatusAsync(device));
        var resolved = receiver.Accepted.Where(r => r.Path == "/hook").Last();
        Assert.Contains("\"transition\":\"resolved\"", resolved.Text, StringComparison.Ordinal);
        // Either order: a firing mail that timed out once on a loaded machine is retried after its backoff, possibly after the resolved one.
        Assert.Contains(smtp.Messages(), m => m.Contains("RESOLVED", StringComparison.Ordinal));
        var alerts = await app.GetAsync($"alerts?device_id={device}");
        Assert.Equal("resolved", Assert.Single(alerts.GetProperty("items").EnumerateArray()).GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_maintenance_window_over_the_device_tag_changes_the_alert_state_and_notifies_nobody()
    {
        using var receiver = new TestReceiver();
        await using var app = await AlertingHost.StartAsync(o => o.Settings["Nms:Health:Threshold"] = "1");
        await app.DeviceDownRuleAsync(await app.WebhookAsync("hook", receiver.Url("hook")));
        var inMaintenance = await app.AddDeviceAsync("127.22.1.1");
        var control = await app.AddDeviceAsync("127.22.1.2");
        await app.TagAsync(inMaintenance, "site=ams1");
        await app.TagAsync(control, "site=fra1");
        var window = await app.PostAsync("maintenance_windows", new
        {
            name = "ams1 power works", kind = "one_off", starts_at = DateTimeOffset.UtcNow.AddMinutes(-1), ends_at = DateTimeOffset.UtcNow.AddHours(1), scope_tags = new[] { "site=ams1" },
        });
        Assert.True(window.GetProperty("active_now").GetBoolean());

        await app.SendAsync(app.Queues.Failures, Failure(inMaintenance));
        await app.SendAsync(app.Queues.Failures, Failure(control));

        // The control device's notification is the positive signal that this evaluation notified what it could.
        await TestApp.EventuallyAsync(() => Task.FromResult(receiver.Accepted.Count == 1), "the control device notified");
        await TestApp.EventuallyAsync(async () => (await app.GetAsync($"alerts?device_id={inMaintenance}&state=firing")).GetProperty("items").GetArrayLength() == 1, "the alert firing in maintenance");
        await TestApp.EventuallyAsync(async () => await app.Database.ScalarAsync<long>("""
            SELECT count(*) FROM alert_events e JOIN alert_instances i ON i.id = e.instance_id WHERE i.device_id = $1 AND e.kind = 'notification_suppressed'
            """, inMaintenance) == 1, "the suppression recorded");
        await app.WaitForEvaluationsAsync(2);
        var only = Assert.Single(receiver.All);
        Assert.Contains($"\"device_id\":{control}", only.Text, StringComparison.Ordinal);
        Assert.Equal(0, await app.Database.ScalarAsync<long>("SELECT count(*) FROM alert_notifications n JOIN alert_instances i ON i.id = n.instance_id WHERE i.device_id = $1", inMaintenance));
    }

    [Fact]
    public async Task A_threshold_value_flapping_around_the_threshold_fires_once_and_resolves_once()
    {
        using var receiver = new TestReceiver();
        await using var app = await AlertingHost.StartAsync();
        var channel = await app.WebhookAsync("hook", receiver.Url("hook"));
        await app.PostAsync("alert_rules", new
        {
            name = "cpu hot", kind = "threshold", severity = "warning", metric = "cpu_load_percent", fn = "value", window_seconds = 120,
            op = ">", threshold = 90, recovery_op = "<", recovery_threshold = 80, channel_ids = new[] { channel },
        });
        var device = await app.AddDeviceAsync("127.22.2.1");

        // Each value through the metrics queue and writer, and seen by at least one evaluation before the next.
        foreach (var value in new double[] { 50, 95, 85, 92, 88, 81, 93, 70, 85, 89 })
        {
            var at = DateTimeOffset.UtcNow;
            await app.SendAsync(app.Queues.Metrics, new MetricsBatchMessage(Guid.NewGuid(), [new MetricSample(device, "cpu_load_percent", value, null, at)]));
            await TestApp.EventuallyAsync(async () => await app.Database.ScalarAsync<long>("SELECT count(*) FROM metric_samples WHERE device_id = $1 AND value = $2 AND ts >= $3", device, value, at.AddMilliseconds(-1)) > 0, $"{value} written");
            await app.WaitForEvaluationsAsync(2);
        }

        await TestApp.EventuallyAsync(() => Task.FromResult(receiver.Accepted.Count == 2), "the firing and the resolved notification");
        Assert.Equal(["firing", "resolved"], receiver.Accepted.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("alerts")[0].GetProperty("transition").GetString()));
        Assert.Equal(1, await app.Database.ScalarAsync<long>("SELECT count(*) FROM alert_instances WHERE device_id = $1", device));
    }

    [Fact]
    public async Task A_receiver_failing_three_times_gets_the_notification_once_with_doubling_gaps_and_evaluation_goes_on_meanwhile()
    {
        using var receiver = new TestReceiver();
        receiver.FailNext(500, 3);
        await using var app = await AlertingHost.StartAsync(o =>
        {
            o.Settings["Nms:Health:Threshold"] = "1";
            o.Settings["Nms:Alerting:RetryBaseSeconds"] = "2";
        });
        var channel = await app.WebhookAsync("hook", receiver.Url("hook"));
        await app.DeviceDownRuleAsync(channel);
        var device = await app.AddDeviceAsync("127.22.3.1");

        await app.SendAsync(app.Queues.Failures, Failure(device));

        await TestApp.EventuallyAsync(() => Task.FromResult(receiver.Accepted.Count == 1), "delivered after three failures", TimeSpan.FromSeconds(60));
        Assert.Equal(4, receiver.All.Count);
        // Each retry waits at least its backoff (2, 4, 8 s: the message is invisible that long); queue polling only adds to a gap.
        var gaps = receiver.All.Zip(receiver.All.Skip(1), (a, b) => (b.At - a.At).TotalSeconds).ToList();
        Assert.True(gaps[0] >= 1.9 && gaps[1] >= 3.9 && gaps[2] >= 7.9 && gaps[2] > gaps[0], $"gaps {string.Join(", ", gaps)} s");
        var shown = await app.GetAsync($"notification_channels/{channel}");
        Assert.Equal("webhook: HTTP 500 Internal Server Error", shown.GetProperty("last_delivery_error").GetString());
        Assert.True(shown.TryGetProperty("last_delivered_at", out _));
        await app.WaitForEvaluationsAsync(2);
        Assert.Single(receiver.Accepted);
    }

    [Fact]
    public async Task A_receiver_that_never_answers_sends_the_message_to_poison_visible_on_the_channel_while_evaluation_goes_on()
    {
        using var receiver = new TestReceiver { NeverAnswer = true };
        await using var app = await AlertingHost.StartAsync(o => o.Settings["Nms:Health:Threshold"] = "1");
        var channel = await app.WebhookAsync("dead", receiver.Url("dead"));
        await app.DeviceDownRuleAsync(channel);
        var device = await app.AddDeviceAsync("127.22.4.1");
        var later = await app.AddDeviceAsync("127.22.4.2");

        await app.SendAsync(app.Queues.Failures, Failure(device));
        await TestApp.EventuallyAsync(() => Task.FromResult(receiver.All.Count >= 1), "the first delivery attempt");

        // While the receiver hangs, a second device goes down: evaluation is not held up by delivery.
        await app.SendAsync(app.Queues.Failures, Failure(later));
        await TestApp.EventuallyAsync(async () => (await app.GetAsync($"alerts?device_id={later}&state=firing")).GetProperty("items").GetArrayLength() == 1, "the later alert evaluated");

        var poison = app.Queue(app.Queues.Notifications + "-poison");
        await TestApp.EventuallyAsync(async () => (await poison.PeekMessagesAsync(10)).Value.Length >= 1, "the first group in the poison queue", TimeSpan.FromSeconds(60));
        var shown = await app.GetAsync($"notification_channels/{channel}");
        Assert.Equal("webhook: no answer within 1 s", shown.GetProperty("last_delivery_error").GetString());
        Assert.False(shown.TryGetProperty("last_delivered_at", out _));
        Assert.Equal(AlertingHost.DeliveryAttempts, await app.Database.ScalarAsync<int>("SELECT max(attempts) FROM alert_notifications"));
        Assert.Contains(app.Logs.Lines, line => line.Contains($"moved to the poison queue after {AlertingHost.DeliveryAttempts} failed attempts", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_redelivered_notification_message_delivers_nothing_a_second_time()
    {
        using var receiver = new TestReceiver();
        await using var app = await AlertingHost.StartAsync(o => o.Settings["Nms:Health:Threshold"] = "1");
        var channel = await app.WebhookAsync("hook", receiver.Url("hook"));
        await app.DeviceDownRuleAsync(channel);
        var device = await app.AddDeviceAsync("127.22.5.1");
        await app.SendAsync(app.Queues.Failures, Failure(device));
        await TestApp.EventuallyAsync(() => Task.FromResult(receiver.Accepted.Count == 1), "the first delivery");
        var evaluation = await app.Database.ScalarAsync<Guid>("SELECT evaluation_id FROM alert_notifications WHERE channel_id = $1", channel);

        await app.SendAsync(app.Queues.Notifications, new NotificationMessage(evaluation, channel));

        await TestApp.EventuallyAsync(() => Task.FromResult(app.Logs.Lines.Any(l => l.Contains($"Notification group {evaluation}/{channel} already delivered", StringComparison.Ordinal))),
            "the redelivery recognised");
        Assert.Single(receiver.All);
    }
}
