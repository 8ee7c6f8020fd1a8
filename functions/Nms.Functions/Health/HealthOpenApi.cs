using Nms.Core.Api;
using Nms.Core.Health;
using Nms.Functions.OpenApi;
using static Nms.Functions.OpenApi.OpenApiBuilder;

namespace Nms.Functions.Health;

/// <summary>GET /api/device_health in /api/openapi.json.</summary>
internal sealed class HealthOpenApi : IOpenApiPaths
{
    public void AddTo(OpenApiBuilder api)
    {
        api.Schema("DeviceHealthTransition", Object(
            ("device_id", Id(), true),
            ("ip", String(), true),
            ("port", Integer(1, 65535), true),
            ("hostname", Nullable(String()), false),
            ("status", Enum("active", "inactive"), true),
            ("reason", String("Deactivations: 'ping' or 'poll'. Reactivations: what the recovery probe saw"), true),
            ("error", Nullable(String("The last failure's error (deactivations)")), false),
            ("at", DateTime(), true),
            ("recovery_attempts", Integer(0, description: "Failed recovery probes so far, while the device is inactive"), false),
            ("next_probe_at", DateTime(), false)));
        api.Schema("DeviceHealthSummary", Object(
            ("active", Integer(0), true),
            ("inactive", Integer(0), true),
            ("failing", Integer(0, description: "Active devices with failures counted in the current window"), true),
            ("window_seconds", Integer(1), true),
            ("threshold", Integer(1), true),
            ("recovery_probe_enabled", Boolean(), true),
            ("latest_deactivations", Array(Ref("DeviceHealthTransition")), true),
            ("latest_reactivations", Array(Ref("DeviceHealthTransition")), true)));
        api.Operation("get", "/device_health", "DeviceHealth", "How many devices are active and inactive, and the latest deactivations and automatic reactivations", Role.Reader, "health")
            .Query("limit", Integer(1, DeviceHealthReader.MaxLimit), $"Entries per list, default {DeviceHealthReader.DefaultLimit}")
            .Response(200, "The summary", Ref("DeviceHealthSummary"))
            .Errors(400);
        api.Schema("DeviceTransition", Object(
            ("device_id", Id(), true),
            ("ip", String(), true),
            ("port", Integer(1, 65535), true),
            ("hostname", Nullable(String("Untrusted: reported by the device")), false),
            ("status", Enum("active", "inactive"), true),
            ("kind", Enum("deactivated", "reactivated"), true),
            ("reason", String("Deactivations: 'ping', 'poll' or 'manual'. Reactivations: what the recovery probe saw"), true),
            ("error", Nullable(String("The last failure's error (health deactivations), or the operator's note")), false),
            ("at", DateTime(), true)));
        api.Operation("get", "/device_health/transitions", "DeviceHealthTransitions",
                "Deactivations (ping, poll, manual) and automatic reactivations since a time, newest first; manual deactivations only of devices still inactive", Role.Reader, "health")
            .Query("since", DateTime(), "ISO 8601; default 24 hours ago")
            .Query("device_id", Id(), "Only this device's transitions")
            .Query("limit", Integer(1, DeviceHealthReader.MaxLimit), $"At most this many, default {DeviceHealthReader.DefaultLimit}")
            .Response(200, "The transitions", Object(("items", Array(Ref("DeviceTransition")), true)))
            .Errors(400);
    }
}
