using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Nms.Core.Api;
using Nms.Core.Configuration;
using Nms.Core.Health;

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
        var summary = await reader.ReadAsync(Limit(request), cancellationToken);
        return new JsonResult(summary, NmsJson.Api);
    }

    private static int Limit(HttpRequest request)
    {
        var text = request.Query["limit"].ToString();
        if (text.Length == 0)
        {
            return DeviceHealthReader.DefaultLimit;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit is >= 1 and <= DeviceHealthReader.MaxLimit
            ? limit
            : throw ProblemException.BadRequest("limit", $"'limit' must be an integer from 1 to {DeviceHealthReader.MaxLimit}.");
    }
}
