using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Nms.Core.Api;
using Nms.Core.Queues;
using Nms.Functions.Http;

namespace Nms.Functions.Queues;

/// <summary>/api/queues (admin): depths and poison counts per queue, and replaying a poison queue.</summary>
public sealed class QueueFunctions(QueueMonitor monitor)
{
    [Function("ListQueues")]
    [RequireRole(Role.Admin)]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "queues")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var depths = await monitor.DepthsAsync(cancellationToken);
        return ApiHttp.Ok(new { items = depths.Queues, poison_messages = depths.PoisonMessages });
    }

    [Function("ReplayPoisonQueue")]
    [RequireRole(Role.Admin)]
    public async Task<IActionResult> Replay(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "queues/{name}/poison/replay")] HttpRequest request,
        string name,
        CancellationToken cancellationToken) =>
        ApiHttp.Ok(await monitor.ReplayAsync(name, ApiHttp.QueryInt(request, "max"), cancellationToken));
}
