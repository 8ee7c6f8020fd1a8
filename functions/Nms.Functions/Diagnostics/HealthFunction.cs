using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Nms.Core.Api;
using Nms.Core.Configuration;
using Nms.Core.Diagnostics;

namespace Nms.Functions.Diagnostics;

public sealed class HealthFunction(SystemHealth health)
{
    [Function("Health")]
    [Anonymous]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var report = await health.CheckAsync(cancellationToken);
        return new JsonResult(report, NmsJson.Api) { StatusCode = report.Healthy ? 200 : 503 };
    }
}
