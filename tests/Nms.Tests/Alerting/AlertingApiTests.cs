using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Nms.Tests.Discovery;
using Microsoft.Extensions.DependencyInjection;
using Nms.Core.Metrics;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Alerting;

/// <summary>The alerting API over real HTTP on the local host: tags, rules, channels, alerts, roles and the 400s naming fields.</summary>
public sealed class AlertingApiTests : IAsyncLifetime
{
    private TestApp app = null!;

    public async Task InitializeAsync() => app = await TestApp.StartAsync();

    public async Task DisposeAsync() => await app.DisposeAsync();

    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, object? body = null, HttpClient? client = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body, options: TestApp.Json) };
        using var response = await (client ?? app.Client).SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private async Task<string> FieldOfAsync(HttpMethod method, string path, object body)
    {
        var (status, problem) = await SendAsync(method, path, body);
        Assert.True(status == HttpStatusCode.BadRequest, $"{method} {path}: {(int)status} {problem}");
        return problem.GetProperty("field").GetString()!;
    }

    private async Task<HttpClient> ClientAsync(string role, string name)
    {
        var (_, key) = await SendAsync(HttpMethod.Post, "api_keys", new { name, role });
        return app.CreateClient(key.GetProperty("key").GetString());
    }

    /// <summary>The issue's roles: reader reads; operator acknowledges, silences (and plans maintenance); admin edits rules and channels.</summary>
    private static readonly Dictionary<string, Core.Api.Role> ExpectedRoles = new()
    {
        ["GET /alert_rules"] = Core.Api.Role.Reader, ["POST /alert_rules"] = Core.Api.Role.Admin, ["GET /alert_rules/{id}"] = Core.Api.Role.Reader,
        ["PUT /alert_rules/{id}"] = Core.Api.Role.Admin, ["DELETE /alert_rules/{id}"] = Core.Api.Role.Admin,
        ["GET /notification_channels"] = Core.Api.Role.Reader, ["POST /notification_channels"] = Core.Api.Role.Admin, ["GET /notification_channels/{id}"] = Core.Api.Role.Reader,
        ["PUT /notification_channels/{id}"] = Core.Api.Role.Admin, ["DELETE /notification_channels/{id}"] = Core.Api.Role.Admin, ["POST /notification_channels/{id}/test"] = Core.Api.Role.Admin,
        ["GET /maintenance_windows"] = Core.Api.Role.Reader, ["POST /maintenance_windows"] = Core.Api.Role.Operator, ["GET /maintenance_windows/{id}"] = Core.Api.Role.Reader,
        ["PUT /maintenance_windows/{id}"] = Core.Api.Role.Operator, ["DELETE /maintenance_windows/{id}"] = Core.Api.Role.Operator,
        ["GET /alerts"] = Core.Api.Role.Reader, ["GET /alerts/{id}"] = Core.Api.Role.Reader, ["POST /alerts/{id}/acknowledge"] = Core.Api.Role.Operator,
        ["GET /silences"] = Core.Api.Role.Reader, ["POST /silences"] = Core.Api.Role.Operator, ["DELETE /silences/{id}"] = Core.Api.Role.Operator,
    };

    [Fact]
    public void Alerting_routes_declare_the_roles_of_the_issue()
    {
        string[] prefixes = ["/alert_rules", "/notification_channels", "/maintenance_windows", "/alerts", "/silences"];
        var declared = Entities.HttpRoute.All().Where(r => prefixes.Any(p => r.Key.Split(' ')[1].StartsWith(p, StringComparison.Ordinal))).ToDictionary(r => r.Key, r => r.Role);

        Assert.Equal(ExpectedRoles.OrderBy(p => p.Key).Select(p => (p.Key, (Core.Api.Role?)p.Value)), declared.OrderBy(p => p.Key).Select(p => (p.Key, p.Value)));
    }

    [Fact]
    public async Task Device_tags_are_set_through_the_api_and_filter_the_device_list()
    {
        var ams = await app.AddDeviceAsync("127.23.0.1");
        var fra = await app.AddDeviceAsync("127.23.0.2");
        await app.TagAsync(ams, "site=ams1", "role=core");
        await app.TagAsync(fra, "site=fra1", "role=core");

        var (_, tags) = await SendAsync(HttpMethod.Get, $"devices/{ams}/tags");
        Assert.Equal(["role=core", "site=ams1"], tags.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        var (_, page) = await SendAsync(HttpMethod.Get, "devices?tag=site=ams1");
        Assert.Equal([ams], page.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("id").GetInt64()));
        var (_, cores) = await SendAsync(HttpMethod.Get, "devices?tag=role%3Dcore");
        Assert.Equal(2, cores.GetProperty("items").GetArrayLength());

        var (badStatus, bad) = await SendAsync(HttpMethod.Get, "devices?tag=site");
        Assert.Equal((HttpStatusCode.BadRequest, "tag"), (badStatus, bad.GetProperty("field").GetString()));
        Assert.Equal("tags[1]", await FieldOfAsync(HttpMethod.Put, $"devices/{ams}/tags", new { tags = new[] { "ok=1", "bad key=1" } }));
        Assert.Equal("tags", await FieldOfAsync(HttpMethod.Put, $"devices/{ams}/tags", new { }));
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Put, "devices/999999/tags", new { tags = Array.Empty<string>() })).Status);
    }

    [Fact]
    public async Task Discovery_profile_tags_go_onto_the_devices_it_provisions_and_not_onto_devices_already_known()
    {
        const string community = "alerting-disc";
        string[] addresses = ["127.23.1.5", "127.23.1.6"];
        using var agents = new SnmpAgents(addresses, community);
        using var plugins = new FakePlugins();
        plugins.AddReal("snmp");
        await using var host = await DiscoveryHost.StartAsync(plugins.Directory);
        var known = await host.Db.AddDeviceAsync("127.23.1.6", agents.Port, "snmp");
        var profile = await host.InsertProfileAsync("tagged", "127.23.1.5-127.23.1.6", agents.Port, [await host.InsertSnmpCredentialAsync("c", community)]);
        using var set = await host.Client.PutAsJsonAsync($"discovery_profiles/{profile}/tags", new { tags = new[] { "site=ams1", "found-by=discovery" } });
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);

        var run = await host.WaitForCompletionAsync(await host.StartRunOkAsync(profile));

        Assert.Equal(1, run.Provisioned);
        var found = (await host.DevicesInAsync("127.23.1.0/24")).Single(d => d.Ip == "127.23.1.5").Id;
        using var tagged = await host.Client.GetAsync("devices?tag=site=ams1");
        var ids = (await tagged.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray().Select(d => d.GetProperty("id").GetInt64());
        Assert.Equal([found], ids);
        Assert.Equal(0, await host.ScalarAsync<long>("SELECT count(*) FROM device_tags WHERE device_id = $1", known));
    }

    [Fact]
    public async Task A_rule_on_an_unknown_metric_needs_the_explicit_flag_or_a_plugin_that_reported_it()
    {
        object Rule(string name, string metric, bool? allow = null) =>
            new { name, kind = "threshold", severity = "warning", metric, op = ">", threshold = 1, allow_unknown_metric = allow };

        Assert.Equal("metric", await FieldOfAsync(HttpMethod.Post, "alert_rules", Rule("custom", "my_custom_gauge")));
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, "alert_rules", Rule("flagged", "my_custom_gauge", true))).Status);
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, "alert_rules", Rule("known", "cpu_load_percent"))).Status);
        var device = await app.AddDeviceAsync("127.23.2.1");
        await app.Services.GetRequiredService<MetricsWriter>().WriteAsync(
            new MetricsBatchMessage(Guid.NewGuid(), [new MetricSample(device, "reported_by_plugin", 1, null, DateTimeOffset.UtcNow)]), CancellationToken.None);
        var (status, created) = await SendAsync(HttpMethod.Post, "alert_rules", Rule("reported", "reported_by_plugin"));

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(("<=", 1d), (created.GetProperty("recovery_op").GetString(), created.GetProperty("recovery_threshold").GetDouble()));
        Assert.Equal(HttpStatusCode.Conflict, (await SendAsync(HttpMethod.Post, "alert_rules", Rule("known", "cpu_load_percent"))).Status);
    }

    [Fact]
    public async Task Every_bad_rule_channel_window_and_silence_is_a_400_naming_the_field()
    {
        Assert.Equal("threshold", await FieldOfAsync(HttpMethod.Post, "alert_rules", new { name = "x", kind = "threshold", severity = "info", metric = "cpu_load_percent", op = ">", threshold = "90" }));
        Assert.Equal("channel_ids[0]", await FieldOfAsync(HttpMethod.Post, "alert_rules", new { name = "x", kind = "device_down", severity = "info", channel_ids = new[] { 424242 } }));
        Assert.Equal("bogus", await FieldOfAsync(HttpMethod.Post, "alert_rules", new { name = "x", kind = "device_down", severity = "info", bogus = 1 }));
        Assert.Equal("signing_secret", await FieldOfAsync(HttpMethod.Post, "notification_channels", new { name = "h", kind = "webhook", url = "https://example.test/h" }));
        Assert.Equal("url", await FieldOfAsync(HttpMethod.Post, "notification_channels", new { name = "s", kind = "slack", url = "ftp://example.test/h" }));
        Assert.Equal("email_to[1]", await FieldOfAsync(HttpMethod.Post, "notification_channels", new { name = "m", kind = "email", smtp_host = "mail", email_from = "a@b.test", email_to = new[] { "ok@b.test", "nope" } }));
        Assert.Equal("smtp_password", await FieldOfAsync(HttpMethod.Post, "notification_channels", new { name = "m", kind = "email", smtp_host = "mail", smtp_user = "u", email_from = "a@b.test", email_to = new[] { "ok@b.test" } }));
        Assert.Equal("time_zone", await FieldOfAsync(HttpMethod.Post, "maintenance_windows", new { name = "w", kind = "weekly", weekdays = new[] { "sun" }, start_time = "02:00", duration_seconds = 3600, time_zone = "Mars/Olympus", scope_tags = new[] { "a=b" } }));
        Assert.Equal("weekdays[0]", await FieldOfAsync(HttpMethod.Post, "maintenance_windows", new { name = "w", kind = "weekly", weekdays = new[] { "sunday" }, start_time = "02:00", duration_seconds = 3600, scope_tags = new[] { "a=b" } }));
        Assert.Equal("cron", await FieldOfAsync(HttpMethod.Post, "maintenance_windows", new { name = "w", kind = "cron", cron = "every sunday", duration_seconds = 3600, scope_tags = new[] { "a=b" } }));
        Assert.Equal("scope_tags", await FieldOfAsync(HttpMethod.Post, "maintenance_windows", new { name = "w", kind = "one_off", starts_at = DateTimeOffset.UtcNow, ends_at = DateTimeOffset.UtcNow.AddHours(1) }));
        Assert.Equal("ends_at", await FieldOfAsync(HttpMethod.Post, "silences", new { alert_id = 1, reason = "r" }));
        Assert.Equal("alert_id", await FieldOfAsync(HttpMethod.Post, "silences", new { ends_at = DateTimeOffset.UtcNow.AddHours(1), reason = "r", rule_id = 1 }));
        Assert.Equal("state", (await SendAsync(HttpMethod.Get, "alerts?state=burning")).Body.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Channel_secrets_are_write_only_and_a_replace_needs_them_again()
    {
        var (_, created) = await SendAsync(HttpMethod.Post, "notification_channels", new { name = "hook", kind = "webhook", url = "https://hooks.example.test/T/secret-token", signing_secret = "a-signing-secret-0123" });
        var id = created.GetProperty("id").GetInt64();

        var (_, list) = await SendAsync(HttpMethod.Get, "notification_channels");
        var (_, one) = await SendAsync(HttpMethod.Get, $"notification_channels/{id}");

        foreach (var shown in new[] { created.ToString(), list.ToString(), one.ToString() })
        {
            Assert.DoesNotContain("secret-token", shown, StringComparison.Ordinal);
            Assert.DoesNotContain("a-signing-secret", shown, StringComparison.Ordinal);
        }

        Assert.False(one.TryGetProperty("url", out _));
        Assert.Equal("url", await FieldOfAsync(HttpMethod.Put, $"notification_channels/{id}", new { name = "hook", kind = "webhook", signing_secret = "a-signing-secret-0123" }));
    }

    [Fact]
    public async Task Readers_read_operators_acknowledge_and_silence_and_only_admins_edit_rules_and_channels()
    {
        var reader = await ClientAsync("reader", "viewer");
        var operatorClient = await ClientAsync("operator", "night-shift");
        await SendAsync(HttpMethod.Post, "alert_rules", new { name = "down", kind = "device_down", severity = "critical" });
        var device = await app.AddDeviceAsync("127.23.3.1");
        await app.Database.DataSource.InTransactionAsync((connection, transaction) =>
            Core.Devices.DeviceLifecycle.DeactivateForFailuresAsync(connection, transaction, device, "ping", "no reply", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(1), CancellationToken.None));
        await app.Services.GetRequiredService<Core.Alerting.AlertEvaluator>().EvaluateAsync(CancellationToken.None);
        var (_, alerts) = await SendAsync(HttpMethod.Get, "alerts?state=firing&severity=critical", client: reader);
        var alert = Assert.Single(alerts.GetProperty("items").EnumerateArray()).GetProperty("id").GetInt64();

        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Post, $"alerts/{alert}/acknowledge", new { comment = "x" }, reader)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Post, "alert_rules", new { name = "r2", kind = "device_down", severity = "info" }, operatorClient)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Post, "notification_channels", new { name = "c", kind = "slack", url = "https://x.test/" }, operatorClient)).Status);
        var (ackStatus, acked) = await SendAsync(HttpMethod.Post, $"alerts/{alert}/acknowledge", new { comment = "looking" }, operatorClient);
        var (silenceStatus, silence) = await SendAsync(HttpMethod.Post, "silences", new { alert_id = alert, ends_at = DateTimeOffset.UtcNow.AddHours(1), reason = "planned" }, operatorClient);

        Assert.Equal((HttpStatusCode.OK, "night-shift", "looking"), (ackStatus, acked.GetProperty("acknowledged_by").GetString(), acked.GetProperty("ack_comment").GetString()));
        Assert.Equal((HttpStatusCode.Created, "night-shift"), (silenceStatus, silence.GetProperty("created_by").GetString()));
        var (_, filtered) = await SendAsync(HttpMethod.Get, "alerts?tag=site=nowhere", client: reader);
        Assert.Equal(0, filtered.GetProperty("items").GetArrayLength());
    }
}
