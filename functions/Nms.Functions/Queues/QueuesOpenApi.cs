using Nms.Core.Api;
using Nms.Core.Queues;
using Nms.Functions.OpenApi;
using static Nms.Functions.OpenApi.OpenApiBuilder;

namespace Nms.Functions.Queues;

/// <summary>/api/queues in /api/openapi.json.</summary>
internal sealed class QueuesOpenApi : IOpenApiPaths
{
    public void AddTo(OpenApiBuilder api)
    {
        api.Schema("QueueDepth", Object(
            ("queue", String(), true),
            ("poison_queue", String("Where messages go after host.json's maxDequeueCount failed attempts"), true),
            ("messages", Integer(0, description: "Approximate: messages being processed are included"), true),
            ("poison_messages", Integer(0, description: "Above 0 needs attention: find the cause in the log, fix it, then replay"), true)));
        api.Operation("get", "/queues", "ListQueues", "Each queue's depth and poison count", Role.Admin, "queues")
            .Response(200, "The queues", Object(("items", Array(Ref("QueueDepth")), true), ("poison_messages", Integer(0, description: "Sum over all poison queues"), true)));
        api.Schema("PoisonReplay", Object(
            ("queue", String(), true),
            ("poison_queue", String(), true),
            ("replayed", Integer(0, description: "Messages moved back to the queue by this call"), true),
            ("poison_messages_left", Integer(0), true)));
        api.Operation("post", "/queues/{name}/poison/replay", "ReplayPoisonQueue",
                "Move messages from a queue's poison queue back to it (consumers are idempotent, so a replay is safe to repeat)", Role.Admin, "queues")
            .Query("max", Integer(1, QueueMonitor.MaxReplay), $"At most this many messages, default {QueueMonitor.DefaultReplay}")
            .Response(200, "What was replayed", Ref("PoisonReplay"))
            .Errors(400, 404);
    }
}
