using Nms.Core.Api;
using static Nms.Functions.OpenApi.OpenApiBuilder;

namespace Nms.Functions.OpenApi;

/// <summary>The problem schema every error uses, /health and the document itself.</summary>
internal sealed class CommonPaths : IOpenApiPaths
{
    public void AddTo(OpenApiBuilder api)
    {
        var problem = Object(
            ("type", String(), true),
            ("title", String(), true),
            ("status", Integer(), true),
            ("detail", Nullable(String()), false),
            ("instance", String(), false),
            ("field", String("The request field at fault (400), e.g. 'port' or 'credential_profile_ids[1]'"), false));
        problem["additionalProperties"] = true;
        problem["description"] = "RFC 9457 problem details; some problems carry more members (e.g. device_ids on a 409).";
        api.Schema(ProblemSchema, problem);

        api.Schema("HealthReport", Object(
            ("status", Enum("healthy", "unhealthy"), true),
            ("checks", Array(Object(
                ("name", String(), true),
                ("healthy", Boolean(), true),
                ("error", Nullable(String()), false),
                ("duration_ms", Number(), true))), true),
            ("poison_messages", Nullable(Integer(0, description: "Messages in all poison queues (null when the queues could not be read); above 0 needs an operator: GET /api/queues, then replay")), false)));
        api.Operation("get", "/health", "Health", "Liveness and dependencies (PostgreSQL pools, queues)", null, "system")
            .Response(200, "Healthy", Ref("HealthReport"))
            .Response(503, "A dependency is down", Ref("HealthReport"));

        api.Operation("get", "/openapi.json", "OpenApiDocument", "This OpenAPI document", Role.Reader, "system")
            .Response(200, "OpenAPI 3.0 document", new System.Text.Json.Nodes.JsonObject { ["type"] = "object" });
    }
}
