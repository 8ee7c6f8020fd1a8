using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Nms.Core.Api;
using Nms.Core.Health;
using Nms.Functions.Http;

namespace Nms.Functions.Health;

/// <summary>
/// How many devices are active and inactive, and the latest deactivations and automatic
/// reactivations. Not under /api/health, which is the anonymous system health route.
/// </summary>
public sealed class DeviceHealthFunction(DeviceHealthReader reader)
{
    [Function("DeviceHealth")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "device_health")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var summary = await reader.ReadAsync(ApiHttp.Limit(request, DeviceHealthReader.DefaultLimit, DeviceHealthReader.MaxLimit), cancellationToken);
        return ApiHttp.Ok(summary);
    }
}
