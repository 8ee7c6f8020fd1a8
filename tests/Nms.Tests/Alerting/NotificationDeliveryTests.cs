using System.Text.Json;
using Nms.Core.Alerting;

namespace Nms.Tests.Alerting;

/// <summary>Delivery to real receivers (an HTTP listener, aiosmtpd): payloads, signature, failures, idempotence.</summary>
public sealed class NotificationDeliveryTests : IAsyncLifetime
{
    private readonly TestReceiver receiver = new();
    private AlertingDatabase db = null!;

    public async Task InitializeAsync() => db = await AlertingDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        receiver.Dispose();
        await db.DisposeAsync();
    }

    /// <summary>A device-down alert fired for one device, its outbox group on the (recorded) queue.</summary>
    private async Task<NotificationMessage> FireAsync(long channel, string hostname = "core-sw1")
    {
        await db.Rules.CreateAsync(new AlertRuleRequest(Name: $"down-{channel}", Kind: "device_down", Severity: "critical", ChannelIds: [channel]), CancellationToken.None);
        var device = await db.AddNamedDeviceAsync($"10.1.0.{channel}", hostname);
        await db.DeactivateAsync(device);
        await db.EvaluateAsync();
        return db.Queue.Notifications.Single(n => n.ChannelId == channel);
    }

    [Fact]
    public async Task Webhook_gets_the_documented_json_signed_with_the_channel_secret()
    {
        var channel = await db.ChannelAsync("hook", receiver.Url("hook"));
        var message = await FireAsync(channel);

        Assert.Equal(DeliveryOutcome.Delivered, await db.Delivery.DeliverAsync(message, CancellationToken.None));

        var request = Assert.Single(receiver.Accepted);
        Assert.Equal(NotificationSender.Signature(request.Body, AlertingDatabase.SigningSecret), request.Headers[NotificationSender.SignatureHeader]);
        Assert.Equal($"{message.EvaluationId}:{channel}", request.Headers[NotificationSender.DeliveryHeader]);
        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal(1, body.RootElement.GetProperty("version").GetInt32());
        var alert = Assert.Single(body.RootElement.GetProperty("alerts").EnumerateArray());
        Assert.Equal(("firing", "critical", "core-sw1", "10.1.0." + channel), (alert.GetProperty("transition").GetString(), alert.GetProperty("severity").GetString(),
            alert.GetProperty("device_hostname").GetString(), alert.GetProperty("device_ip").GetString()));
        Assert.Contains("snmp timeout", alert.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_redelivered_message_sends_nothing_twice()
    {
        var message = await FireAsync(await db.ChannelAsync("hook", receiver.Url("hook")));

        await db.Delivery.DeliverAsync(message, CancellationToken.None);
        Assert.Equal(DeliveryOutcome.NothingToDeliver, await db.Delivery.DeliverAsync(message, CancellationToken.None));

        Assert.Single(receiver.All);
    }

    [Fact]
    public async Task Concurrent_deliveries_of_one_message_reach_the_receiver_once()
    {
        var message = await FireAsync(await db.ChannelAsync("hook", receiver.Url("hook")));

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => db.Delivery.DeliverAsync(message, CancellationToken.None))));

        Assert.Single(outcomes, o => o == DeliveryOutcome.Delivered);
        Assert.Single(receiver.All);
    }

    [Fact]
    public async Task A_failed_delivery_throws_and_shows_on_the_channel_and_the_retry_delivers_once()
    {
        var channel = await db.ChannelAsync("hook", receiver.Url("hook"));
        var message = await FireAsync(channel);
        receiver.FailNext(500, 3);

        for (var attempt = 0; attempt < 3; attempt++)
        {
            await Assert.ThrowsAsync<NotificationDeliveryException>(() => db.Delivery.DeliverAsync(message, CancellationToken.None));
        }

        Assert.Equal("webhook: HTTP 500 Internal Server Error", (await db.Channels.GetAsync(channel, CancellationToken.None)).LastDeliveryError);
        Assert.Equal(DeliveryOutcome.Delivered, await db.Delivery.DeliverAsync(message, CancellationToken.None));
        Assert.Single(receiver.Accepted);
        Assert.Equal(4, receiver.All.Count);
        Assert.Equal(4, await db.CountAsync("SELECT attempts::bigint FROM alert_notifications"));
    }

    [Fact]
    public async Task A_receiver_that_never_answers_times_out_without_leaking_the_url()
    {
        receiver.NeverAnswer = true;
        var channel = (await db.Channels.CreateAsync(new ChannelRequest(Name: "slack", Kind: "slack", Url: receiver.Url("services/T000/B000/XXXXsecret")), CancellationToken.None)).Id;
        var message = await FireAsync(channel);

        var failure = await Assert.ThrowsAsync<NotificationDeliveryException>(() => db.Delivery.DeliverAsync(message, CancellationToken.None));

        Assert.Contains("no answer within 2 s", failure.Message, StringComparison.Ordinal);
        var shown = await db.Channels.GetAsync(channel, CancellationToken.None);
        Assert.Equal(failure.Message, shown.LastDeliveryError);
        Assert.DoesNotContain("XXXXsecret", JsonSerializer.Serialize(shown, Core.Configuration.NmsJson.Api), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Slack_gets_plain_text_with_its_control_characters_escaped()
    {
        var channel = (await db.Channels.CreateAsync(new ChannelRequest(Name: "slack", Kind: "slack", Url: receiver.Url("slack")), CancellationToken.None)).Id;

        await db.Delivery.DeliverAsync(await FireAsync(channel, hostname: "<!channel> evil&co"), CancellationToken.None);

        using var body = JsonDocument.Parse(Assert.Single(receiver.Accepted).Body);
        var text = body.RootElement.GetProperty("text").GetString()!;
        Assert.Contains("FIRING [critical] down-", text, StringComparison.Ordinal);
        Assert.Contains("&lt;!channel&gt; evil&amp;co", text, StringComparison.Ordinal);
        Assert.DoesNotContain("<!channel>", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Teams_gets_an_adaptive_card()
    {
        var channel = (await db.Channels.CreateAsync(new ChannelRequest(Name: "teams", Kind: "teams", Url: receiver.Url("teams")), CancellationToken.None)).Id;

        await db.Delivery.DeliverAsync(await FireAsync(channel), CancellationToken.None);

        using var body = JsonDocument.Parse(Assert.Single(receiver.Accepted).Body);
        var attachment = Assert.Single(body.RootElement.GetProperty("attachments").EnumerateArray());
        Assert.Equal("application/vnd.microsoft.card.adaptive", attachment.GetProperty("contentType").GetString());
        var card = attachment.GetProperty("content");
        Assert.Equal(("AdaptiveCard", "1.4"), (card.GetProperty("type").GetString(), card.GetProperty("version").GetString()));
        Assert.Contains(card.GetProperty("body").EnumerateArray(), block => block.GetProperty("text").GetString()!.Contains("core-sw1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Email_goes_through_a_real_smtp_server()
    {
        await using var smtp = await SmtpServer.StartAsync();
        var channel = (await db.Channels.CreateAsync(new ChannelRequest(Name: "mail", Kind: "email", SmtpHost: smtp.Host, SmtpPort: smtp.Port, SmtpSecurity: "none",
            EmailFrom: "nms@example.test", EmailTo: ["ops@example.test", "oncall@example.test"]), CancellationToken.None)).Id;

        await db.Delivery.DeliverAsync(await FireAsync(channel), CancellationToken.None);

        var mail = Assert.Single(smtp.Messages());
        Assert.Contains("Subject: [NMS] 1 firing, 0 resolved: down-", mail, StringComparison.Ordinal);
        Assert.Contains("oncall@example.test", mail, StringComparison.Ordinal);
        Assert.Contains("FIRING [critical]", mail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_test_notification_reports_success_and_failure()
    {
        var channel = await db.ChannelAsync("hook", receiver.Url("hook"));
        Assert.Equal(new TestNotificationResult(true, null), await db.Delivery.SendTestAsync(channel, CancellationToken.None));
        Assert.Contains("test notification", Assert.Single(receiver.Accepted).Text, StringComparison.Ordinal);

        receiver.FailNext(503, 1);
        var failed = await db.Delivery.SendTestAsync(channel, CancellationToken.None);
        Assert.Equal((false, "webhook: HTTP 503 Service Unavailable"), (failed.Delivered, failed.Error));
    }

    [Fact]
    public async Task Channel_secrets_are_sealed_at_rest()
    {
        var channel = await db.ChannelAsync("hook", receiver.Url("hook-with-token"));

        var stored = await db.Database.ScalarAsync<byte[]>("SELECT secret_ciphertext FROM notification_channels WHERE id = $1", channel);
        var settings = await db.Database.ScalarAsync<string>("SELECT settings::text FROM notification_channels WHERE id = $1", channel);

        Assert.DoesNotContain("hook-with-token", System.Text.Encoding.UTF8.GetString(stored), StringComparison.Ordinal);
        Assert.DoesNotContain(AlertingDatabase.SigningSecret, settings, StringComparison.Ordinal);
    }
}
