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
    public async Task A_failed_delivery_shows_on_the_channel_and_is_sent_again_later_with_doubling_delays_then_delivered_once()
    {
        var channel = await db.ChannelAsync("hook", receiver.Url("hook"));
        var message = await FireAsync(channel);
        receiver.FailNext(500, 3);

        for (var attempt = 1; attempt <= 3; attempt++)
        {
            Assert.Equal(DeliveryOutcome.RetryScheduled, await db.Delivery.DeliverAsync(message, CancellationToken.None));
            message = db.Queue.Sent<NotificationMessage>()[^1].Message;
        }

        var retries = db.Queue.Sent<NotificationMessage>().Where(s => s.Delay > TimeSpan.Zero).ToList();
        Assert.Equal([2, 3, 4], retries.Select(r => r.Message.Attempt));
        Assert.All(retries, r => Assert.Equal("n", r.Queue));
        Assert.Equal([30d, 60d, 120d], retries.Select(r => r.Delay.TotalSeconds));
        Assert.Equal("webhook: HTTP 500 Internal Server Error", (await db.Channels.GetAsync(channel, CancellationToken.None)).LastDeliveryError);
        Assert.Equal(DeliveryOutcome.Delivered, await db.Delivery.DeliverAsync(message, CancellationToken.None));
        Assert.Single(receiver.Accepted);
        Assert.Equal(4, receiver.All.Count);
        Assert.Equal(4, await db.CountAsync("SELECT attempts::bigint FROM alert_notifications"));
    }

    [Fact]
    public async Task The_last_failed_attempt_moves_the_group_to_the_poison_queue_instead_of_retrying()
    {
        var channel = await db.ChannelAsync("hook", receiver.Url("hook"));
        var message = await FireAsync(channel) with { Attempt = db.Options.MaxDeliveryAttempts };
        receiver.FailNext(503, 1);

        Assert.Equal(DeliveryOutcome.Poisoned, await db.Delivery.DeliverAsync(message, CancellationToken.None));

        var poisoned = Assert.Single(db.Queue.Sent<NotificationMessage>(), s => s.Queue == "n-poison");
        Assert.Equal(message, poisoned.Message);
        Assert.DoesNotContain(db.Queue.Sent<NotificationMessage>(), s => s.Delay > TimeSpan.Zero);
        Assert.Equal("webhook: HTTP 503 Service Unavailable", (await db.Channels.GetAsync(channel, CancellationToken.None)).LastDeliveryError);
    }

    [Theory]
    [InlineData(1, 30)]
    [InlineData(2, 60)]
    [InlineData(4, 240)]
    [InlineData(7, 1_800)]
    [InlineData(1_000, 1_800)]
    public void Retry_delays_double_from_the_base_up_to_the_cap(int attempt, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), NotificationDelivery.RetryDelay(attempt, new Core.Configuration.AlertingOptions()));

    [Fact]
    public async Task A_receiver_that_never_answers_times_out_without_leaking_the_url()
    {
        receiver.NeverAnswer = true;
        var channel = (await db.Channels.CreateAsync(new ChannelRequest(Name: "slack", Kind: "slack", Url: receiver.Url("services/T000/B000/XXXXsecret")), CancellationToken.None)).Id;
        var message = await FireAsync(channel);

        Assert.Equal(DeliveryOutcome.RetryScheduled, await db.Delivery.DeliverAsync(message, CancellationToken.None));

        var shown = await db.Channels.GetAsync(channel, CancellationToken.None);
        Assert.Equal("slack: no answer within 2 s", shown.LastDeliveryError);
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

    private const string SmtpUser = "nms-mailer";
    private const string SmtpPassword = "s3cret-smtp-pa55word";

    private async Task<long> EmailChannelAsync(SmtpServer smtp, string security, string? pin = null, string? caPem = null, string password = SmtpPassword)
    {
        // TLS handshakes and AUTH exchanges on a machine shared by many builds: a failure must be the certificate or the password, not the clock.
        db.Options.DeliveryTimeoutSeconds = 20;
        return (await db.Channels.CreateAsync(new ChannelRequest(Name: $"mail-{security}-{Guid.NewGuid():N}", Kind: "email", SmtpHost: smtp.Host, SmtpPort: smtp.Port, SmtpSecurity: security,
            SmtpUser: SmtpUser, SmtpPassword: password, EmailFrom: "nms@example.test", EmailTo: ["ops@example.test"], SmtpTlsCertificateSha256: pin, SmtpTlsCaPem: caPem),
            CancellationToken.None)).Id;
    }

    [Fact]
    public async Task Email_over_starttls_authenticates_to_a_server_whose_ca_the_channel_trusts()
    {
        var certificates = TestCertificates.Create();
        await using var smtp = await SmtpServer.StartTlsAsync("starttls", certificates.ServerPem, certificates.ServerKeyPem, SmtpUser, SmtpPassword);
        var channel = await EmailChannelAsync(smtp, "starttls", caPem: certificates.CaPem);

        Assert.Equal(DeliveryOutcome.Delivered, await db.Delivery.DeliverAsync(await FireAsync(channel), CancellationToken.None));

        Assert.Contains("FIRING [critical]", Assert.Single(smtp.Messages()), StringComparison.Ordinal);
        await AssertPasswordNowhereAsync(channel);
    }

    [Fact]
    public async Task Email_over_implicit_tls_authenticates_to_a_server_with_the_pinned_certificate()
    {
        var certificates = TestCertificates.Create();
        await using var smtp = await SmtpServer.StartTlsAsync("tls", certificates.ServerPem, certificates.ServerKeyPem, SmtpUser, SmtpPassword);
        // As openssl x509 -fingerprint -sha256 prints it: upper case, colons.
        var pin = string.Join(':', certificates.ServerSha256.Chunk(2).Select(c => new string(c)));
        var channel = await EmailChannelAsync(smtp, "tls", pin: pin);

        Assert.Equal(DeliveryOutcome.Delivered, await db.Delivery.DeliverAsync(await FireAsync(channel), CancellationToken.None));

        Assert.Contains("FIRING [critical]", Assert.Single(smtp.Messages()), StringComparison.Ordinal);
        Assert.Equal(certificates.ServerSha256.ToLowerInvariant(), (await db.Channels.GetAsync(channel, CancellationToken.None)).SmtpTlsCertificateSha256);
        await AssertPasswordNowhereAsync(channel);
    }

    [Theory]
    [InlineData("starttls", "system roots")]
    [InlineData("tls", "another certificate's pin")]
    [InlineData("starttls", "another CA")]
    [InlineData("starttls", "wrong password")]
    [InlineData("tls", "wrong password")]
    public async Task Email_is_not_sent_to_an_untrusted_certificate_or_with_a_wrong_password(string security, string setup)
    {
        var certificates = TestCertificates.Create();
        var other = TestCertificates.Create();
        await using var smtp = await SmtpServer.StartTlsAsync(security, certificates.ServerPem, certificates.ServerKeyPem, SmtpUser, SmtpPassword);
        var channel = setup switch
        {
            "system roots" => await EmailChannelAsync(smtp, security),
            "another certificate's pin" => await EmailChannelAsync(smtp, security, pin: other.ServerSha256),
            "another CA" => await EmailChannelAsync(smtp, security, caPem: other.CaPem),
            _ => await EmailChannelAsync(smtp, security, pin: certificates.ServerSha256, password: "not-the-" + SmtpPassword),
        };

        Assert.Equal(DeliveryOutcome.RetryScheduled, await db.Delivery.DeliverAsync(await FireAsync(channel), CancellationToken.None));

        Assert.Empty(smtp.Messages());
        var error = (await db.Channels.GetAsync(channel, CancellationToken.None)).LastDeliveryError!;
        Assert.StartsWith("email: ", error, StringComparison.Ordinal);
        Assert.Contains(setup == "wrong password" ? "Authentication" : "Ssl", error, StringComparison.OrdinalIgnoreCase);
        await AssertPasswordNowhereAsync(channel);
    }

    /// <summary>The SMTP password is in no log line, API answer, queue message or stored column but the sealed secret.</summary>
    private async Task AssertPasswordNowhereAsync(long channel)
    {
        var api = JsonSerializer.Serialize(await db.Channels.GetAsync(channel, CancellationToken.None), Core.Configuration.NmsJson.Api);
        var queued = string.Join('\n', db.Queue.Sent<NotificationMessage>().Select(m => JsonSerializer.Serialize(m.Message, Core.Configuration.NmsJson.Queue)));
        var stored = await db.Database.ScalarAsync<string>(
            "SELECT concat_ws(' ', settings::text, last_delivery_error, (SELECT string_agg(last_error, ' ') FROM alert_notifications)) FROM notification_channels WHERE id = $1", channel);
        foreach (var (where, text) in new[] { ("logs", db.Logs.All), ("API", api), ("queue", queued), ("database", stored) })
        {
            Assert.False(text.Contains(SmtpPassword, StringComparison.Ordinal), $"the SMTP password in the {where}");
        }
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
