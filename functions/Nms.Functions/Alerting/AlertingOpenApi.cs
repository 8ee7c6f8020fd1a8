using System.Text.Json.Nodes;
using Nms.Core.Alerting;
using Nms.Core.Api;
using Nms.Functions.OpenApi;
using static Nms.Functions.OpenApi.OpenApiBuilder;

namespace Nms.Functions.Alerting;

/// <summary>The alerting routes in /api/openapi.json. Schemas mirror core/Alerting/AlertingModels.cs.</summary>
internal sealed class AlertingOpenApi : IOpenApiPaths
{
    public void AddTo(OpenApiBuilder api)
    {
        Schemas(api);
        Tags(api);
        Crud(api, "alert_rules", "AlertRule", "alert rule", "alerting", Role.Admin);
        Crud(api, "notification_channels", "NotificationChannel", "notification channel", "alerting", Role.Admin);
        api.Operation("post", "/notification_channels/{id}/test", "TestNotificationChannel", "Send a test notification now; the answer says whether the receiver took it", Role.Admin, "alerting")
            .Response(200, "The outcome", Ref("TestNotificationResult"))
            .Errors(404);
        Crud(api, "maintenance_windows", "MaintenanceWindow", "maintenance window", "alerting", Role.Operator);
        Alerts(api);
    }

    private static void Tags(OpenApiBuilder api)
    {
        api.Operation("get", "/devices/{id}/tags", "GetDeviceTags", "A device's tags", Role.Reader, "devices")
            .Response(200, "The tags, key=value", Ref("TagList")).Errors(404);
        api.Operation("put", "/devices/{id}/tags", "SetDeviceTags", "Replace a device's tags", Role.Operator, "devices")
            .Body(Ref("TagsRequest")).Response(200, "The tags now", Ref("TagList")).Errors(404);
        api.Operation("get", "/discovery_profiles/{id}/tags", "GetDiscoveryProfileTags", "Tags the profile gives the devices it provisions", Role.Reader, "discovery_profiles")
            .Response(200, "The tags, key=value", Ref("TagList")).Errors(404);
        api.Operation("put", "/discovery_profiles/{id}/tags", "SetDiscoveryProfileTags", "Replace the tags the profile gives new devices", Role.Admin, "discovery_profiles")
            .Body(Ref("TagsRequest")).Response(200, "The tags now", Ref("TagList")).Errors(404);
    }

    private static void Crud(OpenApiBuilder api, string collection, string schema, string what, string tag, Role writer)
    {
        var operation = schema;
        api.Operation("get", $"/{collection}", $"List{operation}s", $"List {what}s", Role.Reader, tag)
            .Response(200, "All of them", Object(("items", Array(Ref(schema)), true)));
        api.Operation("post", $"/{collection}", $"Create{operation}", $"Create a {what}", writer, tag)
            .Body(Ref(schema + "Request")).Response(201, "Created", Ref(schema)).Errors(409);
        api.Operation("get", $"/{collection}/{{id}}", $"Get{operation}", $"Read a {what}", Role.Reader, tag)
            .Response(200, $"The {what}", Ref(schema)).Errors(404);
        api.Operation("put", $"/{collection}/{{id}}", $"Replace{operation}", $"Replace a {what}", writer, tag)
            .Body(Ref(schema + "Request")).Response(200, $"The {what}", Ref(schema)).Errors(404, 409);
        api.Operation("delete", $"/{collection}/{{id}}", $"Delete{operation}", $"Delete a {what}", writer, tag)
            .Response(204, "Deleted").Errors(404);
    }

    private static void Alerts(OpenApiBuilder api)
    {
        api.Operation("get", "/alerts", "ListAlerts", "Alerts, newest first", Role.Reader, "alerting")
            .Query("state", Enum([.. AlertKinds.States]), "Only alerts in this state")
            .Query("severity", Enum([.. AlertKinds.Severities]), "Only alerts of this severity")
            .Query("tag", String(), "Only alerts of devices with this tag, key=value")
            .Query("device_id", Id(), "Only alerts of this device")
            .Query("cursor", String(), "next_cursor of the previous page")
            .Query("limit", Integer(1, AlertService.MaxPageSize), $"Page size, default {AlertService.DefaultPageSize}")
            .Response(200, "A page", Object(("items", Array(Ref("Alert")), true), ("next_cursor", String(), false)))
            .Errors(400);
        api.Operation("get", "/alerts/{id}", "GetAlert", "Read an alert", Role.Reader, "alerting")
            .Response(200, "The alert", Ref("Alert")).Errors(404);
        api.Operation("post", "/alerts/{id}/acknowledge", "AcknowledgeAlert", "Acknowledge an alert (who: the API key's name)", Role.Operator, "alerting")
            .Body(Ref("AcknowledgeRequest")).Response(200, "The alert", Ref("Alert")).Errors(404);
        api.Operation("get", "/silences", "ListSilences", "Silences in force", Role.Reader, "alerting")
            .Response(200, "The silences", Object(("items", Array(Ref("Silence")), true)));
        api.Operation("post", "/silences", "CreateSilence", "Mute one alert, or a rule on a device, until a time", Role.Operator, "alerting")
            .Body(Ref("SilenceRequest")).Response(201, "Created", Ref("Silence"));
        api.Operation("delete", "/silences/{id}", "DeleteSilence", "End a silence", Role.Operator, "alerting")
            .Response(204, "Deleted").Errors(404);
    }

    private static void Schemas(OpenApiBuilder api)
    {
        // Each use needs its own node: a JSON node has one parent.
        static JsonObject Tags() => Array(String("key=value"));
        static JsonObject Severity() => Enum([.. AlertKinds.Severities]);
        static JsonObject Op() => Enum([.. AlertKinds.Operators]);
        static JsonObject Labels() => new() { ["type"] = "object", ["additionalProperties"] = String() };
        api.Schema("TagsRequest", Object(("tags", Tags(), true)));
        api.Schema("TagList", Object(("tags", Tags(), true)));
        static (string, JsonObject, bool)[] RuleFields() =>
        [
            ("name", String("Unique"), true),
            ("kind", Enum([.. AlertKinds.All]), true),
            ("severity", Severity(), true),
            ("enabled", Boolean("Default true"), false),
            ("scope_tags", Array(String("key=value")), false),
            ("scope_device_ids", Array(Id()), false),
            ("for_seconds", Integer(0, AlertRuleService.MaxForSeconds, "Pending duration before firing, default 0"), false),
            ("failure_count", Integer(1, 1000, "device_down: also fire after this many consecutive failed polls/pings"), false),
            ("metric", String("threshold: the metric name"), false),
            ("labels", Labels(), false),
            ("fn", Enum([.. AlertKinds.Functions]), false),
            ("window_seconds", Integer(10, AlertRuleService.MaxWindowSeconds), false),
            ("op", Op(), false),
            ("threshold", Number(), false),
            ("recovery_op", Op(), false),
            ("recovery_threshold", Number(), false),
            ("allow_unknown_metric", Boolean("Accept a metric no plugin has reported"), false),
            ("channel_ids", Array(Id()), false),
        ];
        api.Schema("AlertRuleRequest", Object(RuleFields()));
        api.Schema("AlertRule", Object([("id", Id(), true), .. RuleFields(), ("created_at", DateTime(), true), ("updated_at", DateTime(), true)]));

        static (string, JsonObject, bool)[] ChannelSettings() =>
        [
            ("name", String("Unique"), true),
            ("kind", Enum([.. ChannelKinds.All]), true),
            ("smtp_host", String(), false),
            ("smtp_port", Integer(1, 65535), false),
            ("smtp_security", Enum([.. ChannelKinds.SmtpSecurities]), false),
            ("smtp_user", String(), false),
            ("email_from", String(), false),
            ("email_to", Array(String()), false),
            ("smtp_tls_certificate_sha256", String("email, starttls/tls: trust the server's certificate by its pinned SHA-256 fingerprint (hex, colons allowed) instead of the system's roots"), false),
            ("smtp_tls_ca_pem", String("email, starttls/tls: trust server certificates issued by these CA certificates (PEM) instead of the system's roots; the host name is still checked"), false),
            ("route_all", Boolean("Select alerts by min_severity and match_tags, besides rules naming this channel"), false),
            ("min_severity", Severity(), false),
            ("match_tags", Tags(), false),
            ("send_resolved", Boolean("Default true"), false),
            ("repeat_interval_seconds", Integer(60, 2_592_000, "Default 14400 (4 h)"), false),
        ];
        api.Schema("NotificationChannelRequest", Object([.. ChannelSettings(),
            ("url", WriteOnlyString("webhook, slack, teams: the receiver URL (secret)"), false),
            ("signing_secret", WriteOnlyString("webhook: HMAC-SHA256 key, at least 16 characters"), false),
            ("smtp_password", WriteOnlyString("email, with smtp_user"), false)]));
        api.Schema("NotificationChannel", Object([("id", Id(), true), .. ChannelSettings(),
            ("secret_key_id", String(), true),
            ("last_delivered_at", DateTime(), false),
            ("last_delivery_error", String(), false),
            ("last_delivery_error_at", DateTime(), false),
            ("created_at", DateTime(), true),
            ("updated_at", DateTime(), true)]));
        api.Schema("TestNotificationResult", Object(("delivered", Boolean(), true), ("error", String(), false)));

        static (string, JsonObject, bool)[] WindowFields() =>
        [
            ("name", String("Unique"), true),
            ("kind", Enum("one_off", "weekly", "cron"), true),
            ("starts_at", DateTime(), false),
            ("ends_at", DateTime(), false),
            ("weekdays", Array(Enum([.. MaintenanceSchedule.Weekdays])), false),
            ("start_time", String("weekly: HH:mm in time_zone"), false),
            ("cron", String("cron: NCRONTAB (5 or 6 fields) in time_zone"), false),
            ("duration_seconds", Integer(60, MaintenanceService.MaxDurationSeconds), false),
            ("time_zone", String("IANA name, default UTC"), false),
            ("scope_tags", Tags(), false),
            ("scope_device_ids", Array(Id()), false),
            ("suppress_deactivation", Boolean("Reserved: the health monitor does not read it yet"), false),
        ];
        api.Schema("MaintenanceWindowRequest", Object(WindowFields()));
        api.Schema("MaintenanceWindow", Object([("id", Id(), true), .. WindowFields(), ("active_now", Boolean(), true), ("created_at", DateTime(), true), ("updated_at", DateTime(), true)]));

        api.Schema("Alert", Object(
            ("id", Id(), true),
            ("rule_id", Id(), true),
            ("rule_name", String(), true),
            ("kind", Enum([.. AlertKinds.All]), true),
            ("severity", Severity(), true),
            ("device_id", Id(), true),
            ("device_ip", String(), true),
            ("device_hostname", String(), false),
            ("labels", Labels(), true),
            ("state", Enum([.. AlertKinds.States]), true),
            ("value", Number(), false),
            ("reason", String(), false),
            ("pending_since", DateTime(), true),
            ("fired_at", DateTime(), false),
            ("resolved_at", DateTime(), false),
            ("acknowledged_by", String(), false),
            ("acknowledged_at", DateTime(), false),
            ("ack_comment", String(), false)));
        api.Schema("AcknowledgeRequest", Object(("comment", String(), false)));
        api.Schema("SilenceRequest", Object(
            ("alert_id", Id(), false),
            ("rule_id", Id(), false),
            ("device_id", Id(), false),
            ("ends_at", DateTime(), true),
            ("reason", String(), true)));
        api.Schema("Silence", Object(
            ("id", Id(), true),
            ("alert_id", Id(), false),
            ("rule_id", Id(), false),
            ("device_id", Id(), false),
            ("ends_at", DateTime(), true),
            ("created_by", String(), true),
            ("reason", String(), true),
            ("created_at", DateTime(), true)));
    }
}
