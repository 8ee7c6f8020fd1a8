using System.Text.Json.Nodes;
using Nms.Core.Api;
using Nms.Core.Credentials;
using Nms.Core.Entities;
using Nms.Functions.OpenApi;
using static Nms.Functions.OpenApi.OpenApiBuilder;

namespace Nms.Functions.Entities;

/// <summary>The entity routes in /api/openapi.json. Schemas mirror the records in core/Entities/EntityModels.cs (a test compares them).</summary>
internal sealed class EntityOpenApi : IOpenApiPaths
{
    public void AddTo(OpenApiBuilder api)
    {
        AddSchemas(api);
        CredentialProfiles(api);
        DiscoveryProfiles(api);
        PollProfiles(api);
        Devices(api);
        ApiKeys(api);
    }

    private static void CredentialProfiles(OpenApiBuilder api)
    {
        const string tag = "credential_profiles";
        api.Operation("get", "/credential_profiles", "ListCredentialProfiles", "List credential profiles (never their secrets)", Role.Reader, tag)
            .Response(200, "All credential profiles", List("CredentialProfile"));
        api.Operation("post", "/credential_profiles", "CreateCredentialProfile", "Create a credential profile; secrets are sealed at rest", Role.Admin, tag)
            .Body(Ref("CredentialProfileRequest"))
            .Response(201, "Created", Ref("CredentialProfile"))
            .Errors(409);
        api.Operation("get", "/credential_profiles/{id}", "GetCredentialProfile", "Read a credential profile (never its secrets)", Role.Reader, tag)
            .Response(200, "The profile", Ref("CredentialProfile"))
            .Errors(404);
        api.Operation("put", "/credential_profiles/{id}", "ReplaceCredentialProfile", "Replace a credential profile; send its secrets again", Role.Admin, tag)
            .Body(Ref("CredentialProfileRequest"))
            .Response(200, "Replaced", Ref("CredentialProfile"))
            .Errors(404, 409);
        api.Operation("delete", "/credential_profiles/{id}", "DeleteCredentialProfile", "Delete a credential profile nothing uses", Role.Admin, tag)
            .Response(204, "Deleted")
            .Errors(404, 409);
    }

    private static void DiscoveryProfiles(OpenApiBuilder api)
    {
        const string tag = "discovery_profiles";
        api.Operation("get", "/discovery_profiles", "ListDiscoveryProfiles", "List discovery profiles", Role.Reader, tag)
            .Response(200, "All discovery profiles", List("DiscoveryProfile"));
        api.Operation("post", "/discovery_profiles", "CreateDiscoveryProfile", "Create a discovery profile", Role.Admin, tag)
            .Body(Ref("DiscoveryProfileRequest"))
            .Response(201, "Created; address_count is what the target expands to", Ref("DiscoveryProfile"))
            .Errors(409);
        api.Operation("get", "/discovery_profiles/{id}", "GetDiscoveryProfile", "Read a discovery profile", Role.Reader, tag)
            .Response(200, "The profile", Ref("DiscoveryProfile"))
            .Errors(404);
        api.Operation("put", "/discovery_profiles/{id}", "ReplaceDiscoveryProfile", "Replace a discovery profile", Role.Admin, tag)
            .Body(Ref("DiscoveryProfileRequest"))
            .Response(200, "Replaced", Ref("DiscoveryProfile"))
            .Errors(404, 409);
        api.Operation("delete", "/discovery_profiles/{id}", "DeleteDiscoveryProfile", "Delete a discovery profile (its devices stay)", Role.Admin, tag)
            .Response(204, "Deleted")
            .Errors(404);
    }

    private static void PollProfiles(OpenApiBuilder api)
    {
        const string tag = "poll_profiles";
        api.Operation("get", "/poll_profiles", "ListPollProfiles", "List poll profiles", Role.Reader, tag)
            .Response(200, "All poll profiles", List("PollProfile"));
        api.Operation("post", "/poll_profiles", "CreatePollProfile", $"Create a poll profile (what a poll reads instead of the plugin's default set); body at most {PollProfileService.MaxBodyBytes} bytes", Role.Admin, tag)
            .Body(Ref("PollProfileRequest"))
            .Response(201, "Created", Ref("PollProfile"))
            .Errors(409);
        api.Operation("get", "/poll_profiles/{id}", "GetPollProfile", "Read a poll profile", Role.Reader, tag)
            .Response(200, "The profile", Ref("PollProfile"))
            .Errors(404);
        api.Operation("put", "/poll_profiles/{id}", "ReplacePollProfile", "Replace a poll profile; devices using it read the new definition from their next poll", Role.Admin, tag)
            .Body(Ref("PollProfileRequest"))
            .Response(200, "Replaced", Ref("PollProfile"))
            .Errors(404, 409);
        api.Operation("delete", "/poll_profiles/{id}", "DeletePollProfile", "Delete a poll profile no device or discovery profile uses", Role.Admin, tag)
            .Response(204, "Deleted")
            .Errors(404, 409);
    }

    private static void Devices(OpenApiBuilder api)
    {
        const string tag = "devices";
        api.Operation("get", "/devices", "ListDevices", "List devices, a page at a time (keyset: stable while devices are added)", Role.Reader, tag)
            .Query("status", Enum(DeviceStatus.Active, DeviceStatus.Inactive), "Only devices in this status")
            .Query("plugin", String(), "Only devices polled by this plugin")
            .Query("q", String(), "Text search: hostname contains it (case-insensitive) or the IP starts with it")
            .Query("tag", String(), "Only devices with this tag, key=value (e.g. site=ams1)")
            .Query("cursor", String(), "next_cursor of the previous page; absent for the first")
            .Query("limit", Integer(1, DeviceService.MaxPageSize), $"Page size, default {DeviceService.DefaultPageSize}")
            .Response(200, "A page; next_cursor is absent on the last", Ref("DevicePage"))
            .Errors(400);
        api.Operation("post", "/devices", "CreateDevice", "Add a device by hand; it is scheduled for polling within its interval", Role.Operator, tag)
            .Body(Ref("DeviceCreateRequest"))
            .Response(201, "Created", Ref("Device"))
            .Errors(409);
        api.Operation("get", "/devices/{id}", "GetDevice", "Read a device", Role.Reader, tag)
            .Response(200, "The device", Ref("Device"))
            .Errors(404);
        api.Operation("patch", "/devices/{id}", "UpdateDevice", "Change interval or credential; \"status\": \"active\" reactivates, \"inactive\" deactivates", Role.Operator, tag)
            .Body(Ref("DevicePatchRequest"), "Only the fields to change")
            .Response(200, "The device after the change", Ref("Device"))
            .Errors(404);
        api.Operation("delete", "/devices/{id}", "DeleteDevice", "Delete a device and its schedule", Role.Operator, tag)
            .Response(204, "Deleted")
            .Errors(404);
    }

    private static void ApiKeys(OpenApiBuilder api)
    {
        const string tag = "api_keys";
        api.Operation("get", "/api_keys", "ListApiKeys", "List API keys (never the keys themselves)", Role.Admin, tag)
            .Response(200, "All keys, revoked ones included", List("ApiKey"));
        api.Operation("post", "/api_keys", "CreateApiKey", "Create an API key; the response is the only time it is shown", Role.Admin, tag)
            .Body(Ref("ApiKeyRequest"))
            .Response(201, "Created, with the key", Ref("CreatedApiKey"));
        api.Schema("CurrentKey", Object(
            ("key_id", String("The key's id (its record's id, or 'bootstrap')"), true),
            ("name", String(), true),
            ("role", Enum("reader", "operator", "admin"), true)));
        api.Operation("get", "/me", "CurrentApiKey", "Who the presented key is: id, name and role (never the key)", Role.Reader, tag)
            .Response(200, "The caller", Ref("CurrentKey"));
        api.Operation("get", "/api_keys/{id}", "GetApiKey", "Read an API key's record", Role.Admin, tag)
            .Response(200, "The key's record", Ref("ApiKey"))
            .Errors(404);
        api.Operation("delete", "/api_keys/{id}", "RevokeApiKey", "Revoke an API key (idempotent)", Role.Admin, tag)
            .Response(200, "The revoked key's record", Ref("ApiKey"))
            .Errors(404);
    }

    private static void AddSchemas(OpenApiBuilder api)
    {
        var auth = CredentialProtocols.AuthProtocols.ToArray();
        var priv = CredentialProtocols.PrivProtocols.ToArray();
        api.Schema("CredentialProfileRequest", Object(
            ("name", String("Unique"), true),
            ("protocol", Enum([.. CredentialProtocols.All]), true),
            ("community", WriteOnlyString("snmp_v1, snmp_v2c: required"), false),
            ("user", String("snmp_v3 and ssh: required"), false),
            ("auth_protocol", Enum(auth), false),
            ("auth_key", WriteOnlyString("snmp_v3 with auth_protocol other than none: at least 8 characters"), false),
            ("priv_protocol", Enum(priv), false),
            ("priv_key", WriteOnlyString("snmp_v3 with priv_protocol other than none: at least 8 characters"), false),
            ("password", WriteOnlyString("ssh: this or private_key"), false),
            ("private_key", WriteOnlyString("ssh: this (PEM/OpenSSH) or password"), false),
            ("private_key_passphrase", WriteOnlyString("ssh with private_key: optional"), false)));
        api.Schema("CredentialProfile", Object(
            ("id", Id(), true),
            ("name", String(), true),
            ("protocol", Enum([.. CredentialProtocols.All]), true),
            ("user", String(), false),
            ("auth_protocol", Enum(auth), false),
            ("priv_protocol", Enum(priv), false),
            ("secret_key_id", String("Id of the key the secrets are sealed under (Nms:Crypto:Keys)"), true),
            ("created_at", DateTime(), true),
            ("updated_at", DateTime(), true)));

        api.Schema("DiscoveryProfileRequest", Object(
            ("name", String("Unique"), true),
            ("target", String("Comma-separated IPv4 CIDRs, ranges (a.b.c.d-e.f.g.h or a.b.c.d-N) and addresses, at most Nms:Discovery:MaxAddressesPerRun addresses"), true),
            ("port", Integer(1, 65_535), true),
            ("plugin", String("An installed plugin"), true),
            ("credential_profile_ids", Array(Id()), true),
            ("ping_precheck", Boolean("Ping before running the plugin (default false)"), false),
            ("timeout_ms", Integer(100, 60_000), false),
            ("poll_interval_seconds", Integer(10, 86_400, "For the devices it finds (default 60)"), false),
            ("poll_profile_id", Id(), false)));
        api.Schema("DiscoveryProfile", Object(
            ("id", Id(), true),
            ("name", String(), true),
            ("target", String(), true),
            ("address_count", Integer(1, description: "Addresses the target expands to (absent if a stored target no longer parses)"), false),
            ("port", Integer(1, 65_535), true),
            ("plugin", String(), true),
            ("credential_profile_ids", Array(Id()), true),
            ("ping_precheck", Boolean(), true),
            ("timeout_ms", Integer(100, 60_000), true),
            ("poll_interval_seconds", Integer(10, 86_400), true),
            ("created_at", DateTime(), true),
            ("updated_at", DateTime(), true),
            ("poll_profile_id", Id(), false)));

        var metricName = "Matches [a-z_][a-z0-9_]*";
        var oid = "Dotted numeric, at least two arcs, the first 0-2";
        api.Schema("PollObject", Object(
            ("oid", String(oid), true),
            ("metric", String($"{metricName}; unique in the profile"), true),
            ("kind", Enum("gauge", "counter"), false),
            ("counter_bits", Integer(32, 64, "32 or 64, counters only; absent: the value's own width"), false)));
        api.Schema("PollLookup", Object(
            ("oid", String($"{oid}: a column at the same index whose text becomes the label"), true),
            ("label", String(metricName), true)));
        api.Schema("PollTable", Object(
            ("columns", Array(Ref("PollObject")), true),
            ("index_label", String($"{metricName}; default index"), false),
            ("lookups", Array(Ref("PollLookup")), false)));
        api.Schema("PollProfileRequest", Object(
            ("name", String("Unique"), true),
            ("scalars", Array(Ref("PollObject")), false),
            ("tables", Array(Ref("PollTable")), false),
            ("max_requests", Integer(1, 1000, "Requests one device poll may send (plugin default 100)"), false)));
        api.Schema("PollProfile", Object(
            ("id", Id(), true),
            ("name", String(), true),
            ("scalars", Array(Ref("PollObject")), true),
            ("tables", Array(Ref("PollTable")), true),
            ("max_requests", Integer(1, 1000), false),
            ("created_at", DateTime(), true),
            ("updated_at", DateTime(), true)));

        api.Schema("DeviceCreateRequest", Object(
            ("ip", String("IPv4 or IPv6 address"), true),
            ("port", Integer(1, 65_535), true),
            ("hostname", String(), false),
            ("description", String(), false),
            ("plugin", String("An installed plugin"), true),
            ("credential_profile_id", Id(), false),
            ("poll_interval_seconds", Integer(10, 86_400, "Default 60"), false),
            ("poll_profile_id", Id(), false)));
        api.Schema("DevicePatchRequest", Object(
            ("poll_interval_seconds", Integer(10, 86_400), false),
            ("credential_profile_id", Id(), false),
            ("status", Enum(DeviceStatus.Active, DeviceStatus.Inactive), false),
            ("deactivation_reason", String("With status inactive; default 'manual'"), false),
            ("poll_profile_id", ResettableId("A poll profile; null puts the device back on the default profile, absent keeps its profile"), false)));
        api.Schema("Device", Object(
            ("id", Id(), true),
            ("ip", String(), true),
            ("port", Integer(1, 65_535), true),
            ("hostname", String(), false),
            ("description", String(), false),
            ("plugin", String(), true),
            ("credential_profile_id", Id(), false),
            ("discovery_profile_id", Id(), false),
            ("poll_interval_seconds", Integer(10, 86_400), true),
            ("status", Enum(DeviceStatus.Active, DeviceStatus.Inactive), true),
            ("deactivation_reason", String(), false),
            ("deactivation_error", String(), false),
            ("deactivated_at", DateTime(), false),
            ("failure_count", Integer(0), true),
            ("last_failure_at", DateTime(), false),
            ("last_failure_reason", String(), false),
            ("last_failure_error", String(), false),
            ("next_poll_at", DateTime(), false),
            ("created_at", DateTime(), true),
            ("updated_at", DateTime(), true),
            ("poll_profile_id", Id(), false)));
        api.Schema("DevicePage", Object(
            ("items", Array(Ref("Device")), true),
            ("next_cursor", String(), false)));

        var roles = new[] { "reader", "operator", "admin" };
        api.Schema("ApiKeyRequest", Object(
            ("name", String(), true),
            ("role", Enum(roles), true)));
        api.Schema("ApiKey", Object(
            ("id", Uuid(), true),
            ("name", String(), true),
            ("role", Enum(roles), true),
            ("key_prefix", String("The public part of the key: nms_<key_prefix>_..."), true),
            ("created_at", DateTime(), true),
            ("revoked_at", DateTime(), false),
            ("last_used_at", DateTime(), false)));
        api.Schema("CreatedApiKey", Object(
            ("id", Uuid(), true),
            ("name", String(), true),
            ("role", Enum(roles), true),
            ("key_prefix", String(), true),
            ("key", String("The key, shown this once"), true),
            ("created_at", DateTime(), true)));
    }

    private static JsonObject List(string schema) => Object(("items", Array(Ref(schema)), true));

    private static JsonObject ResettableId(string description)
    {
        var schema = Nullable(Id());
        schema["description"] = description;
        return schema;
    }
}
