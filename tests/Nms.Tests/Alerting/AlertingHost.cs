using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Nms.Core.Credentials;
using Nms.Core.Entities;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Alerting;

/// <summary>Helpers for alerting on the local host: the app with the evaluation timer on, and its API calls.</summary>
public static class AlertingHost
{
    public const int MaxDequeueCount = 5;

    /// <summary>Delivery attempts before a group is poisoned; retries wait 1, 2, 4 s (RetryBaseSeconds 1).</summary>
    public const int DeliveryAttempts = 4;

    public static Task<TestApp> StartAsync(Action<TestAppOptions>? configure = null) => TestApp.StartAsync(o =>
    {
        o.EnabledTimers.Add("AlertEvaluation");
        o.Settings["NmsAlertingSchedule"] = "*/1 * * * * *";
        o.Settings["Nms:Alerting:DeliveryTimeoutSeconds"] = "1";
        o.Settings["Nms:Alerting:MaxDeliveryAttempts"] = $"{DeliveryAttempts}";
        o.Settings["Nms:Alerting:RetryBaseSeconds"] = "1";
        o.Queues = o.Queues with { MaxDequeueCount = MaxDequeueCount };
        configure?.Invoke(o);
    });

    public static async Task<JsonElement> PostAsync(this TestApp app, string path, object body, HttpStatusCode expected = HttpStatusCode.Created)
    {
        using var response = await app.Client.PostAsJsonAsync(path, body, TestApp.Json);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"POST {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static async Task<long> WebhookAsync(this TestApp app, string name, string url) =>
        (await app.PostAsync("notification_channels", new { name, kind = "webhook", url, signing_secret = AlertingDatabase.SigningSecret })).GetProperty("id").GetInt64();

    public static async Task<long> DeviceDownRuleAsync(this TestApp app, params long[] channels) =>
        (await app.PostAsync("alert_rules", new { name = "device down", kind = "device_down", severity = "critical", channel_ids = channels })).GetProperty("id").GetInt64();

    /// <summary>An snmp device provisioned through the lifecycle, due now.</summary>
    public static Task<long> AddDeviceAsync(this TestApp app, string ip, int port = 161, long? credential = null, int interval = 60) =>
        app.Database.DataSource.AddDeviceAsync(ip, port, "snmp", DateTimeOffset.UtcNow, interval, credential);

    public static async Task TagAsync(this TestApp app, long device, params string[] tags)
    {
        using var response = await app.Client.PutAsJsonAsync($"devices/{device}/tags", new { tags });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>An snmp_v2c credential with the agents' community, sealed with the app's own key.</summary>
    public static async Task<long> CommunityCredentialAsync(this TestApp app)
    {
        var sealedSecret = app.Services.GetRequiredService<CredentialReader>().Seal(new CredentialSecretFields(Community: Health.SnmpAgent.Community));
        return await app.Database.ScalarAsync<long>("""
            INSERT INTO credential_profiles (name, protocol, settings, secret_ciphertext, secret_key_id, created_at, updated_at)
            VALUES ('alerting-public', 'snmp_v2c', '{}', $1, $2, now(), now()) RETURNING id
            """, sealedSecret.Ciphertext, sealedSecret.KeyId);
    }

    /// <summary>How many alert evaluations have completed: the positive signal "an evaluation saw this".</summary>
    public static int Evaluations(this TestApp app) => app.Logs.Lines.Count(line => line.Contains("Alert evaluation ", StringComparison.Ordinal) && line.Contains("observations", StringComparison.Ordinal));

    public static async Task WaitForEvaluationsAsync(this TestApp app, int more)
    {
        var target = app.Evaluations() + more;
        await TestApp.EventuallyAsync(() => Task.FromResult(app.Evaluations() >= target), $"{more} more alert evaluations");
    }

    public static Task<string> StatusAsync(this TestApp app, long device) => app.Database.ScalarAsync<string>("SELECT status FROM devices WHERE id = $1", device);

    public static async Task<JsonElement> GetAsync(this TestApp app, string path) => await app.Client.GetFromJsonAsync<JsonElement>(path);
}
