using Nms.Core.Api;
using Nms.Functions.OpenApi;
using static Nms.Functions.OpenApi.OpenApiBuilder;

namespace Nms.Functions.Discovery;

/// <summary>The discovery run routes in /api/openapi.json; the schema mirrors core/Discovery/DiscoveryModels.cs's DiscoveryRunView.</summary>
internal sealed class DiscoveryOpenApi : IOpenApiPaths
{
    public void AddTo(OpenApiBuilder api)
    {
        const string tag = "discovery_runs";
        api.Schema("DiscoveryFailureSample", Object(
            ("ip", String("The address (\"*\" for batches that could not be queued)"), true),
            ("error", String("Why it did not become a device: timeout, auth error, refused, plugin failure"), true)));
        api.Schema("DiscoveryRun", Object(
            ("id", Uuid(), true),
            ("discovery_profile_id", Id(), true),
            ("status", Enum("queued", "running", "completed"), true),
            ("targets", Integer(0, description: "Addresses the target expanded to"), true),
            ("batches_total", Integer(0), true),
            ("batches_done", Integer(0), true),
            ("responded", Integer(0, description: "Addresses the plugin found a device at"), true),
            ("provisioned", Integer(0, description: "New devices this run created"), true),
            ("already_known", Integer(0, description: "Responders that were devices already, left as they were"), true),
            ("failed", Integer(0, description: "Addresses that did not respond, refused, failed authentication or whose batch failed"), true),
            ("failure_samples", Array(Ref("DiscoveryFailureSample")), true),
            ("created_at", DateTime(), true),
            ("started_at", Nullable(DateTime()), false),
            ("finished_at", Nullable(DateTime()), false)));

        api.Operation("post", "/discovery_profiles/{id}/run", "DiscoveryRunStart", "Start a discovery run of a profile", Role.Operator, tag)
            .Response(202, "The run, queued; Location is /api/discovery_runs/{run id}", Ref("DiscoveryRun"))
            .Errors(400, 404, 409, 503);
        api.Operation("get", "/discovery_runs/{id}", "DiscoveryRunGet", "Read a discovery run: status, totals, failure samples", Role.Reader, tag)
            .Response(200, "The run", Ref("DiscoveryRun"))
            .Errors(404);
        api.Operation("get", "/discovery_profiles/{id}/runs", "DiscoveryRunList", "A profile's runs, newest first", Role.Reader, tag)
            .Query("limit", Integer(1, 200), "At most this many runs (default 50)")
            .Response(200, "The runs", Object(("items", Array(Ref("DiscoveryRun")), true)))
            .Errors(400, 404);
        api.Operation("get", "/discovery_runs", "DiscoveryRunRecent", "Every profile's runs, newest first", Role.Reader, tag)
            .Query("in_progress", Boolean(), "Only queued and running runs (default false)")
            .Query("limit", Integer(1, 200), "At most this many runs (default 50)")
            .Response(200, "The runs", Object(("items", Array(Ref("DiscoveryRun")), true)))
            .Errors(400);
    }
}
