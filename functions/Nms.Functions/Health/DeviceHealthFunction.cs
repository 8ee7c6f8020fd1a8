using System.Globalization;
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
public sealed class DeviceHealthFunction(DeviceHealthReader reader, TimeProvider time)
{
    private static readonly TimeSpan DefaultTransitionsWindow = TimeSpan.FromHours(24);

    [Function("DeviceHealth")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "device_health")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var summary = await reader.ReadAsync(Limit(request), cancellationToken);
        return ApiHttp.Ok(summary);
    }

    /// <summary>Deactivations (ping, poll, manual) and reactivations since a time: the console's overview and device page.</summary>
    [Function("DeviceHealthTransitions")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> Transitions(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "device_health/transitions")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var since = Since(request) ?? time.GetUtcNow() - DefaultTransitionsWindow;
        var items = await reader.TransitionsAsync(since, DeviceId(request), Limit(request), cancellationToken);
        return ApiHttp.Ok(new { items });
    }

    private static DateTimeOffset? Since(HttpRequest request)
    {
        var text = request.Query["since"].ToString();
        if (text.Length == 0)
        {
            return null;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var since)
            ? since
            : throw ProblemException.BadRequest("since", "'since' must be an ISO 8601 time, e.g. 2026-01-31T12:00:00Z.");
    }

    private static long? DeviceId(HttpRequest request)
    {
        var text = request.Query["device_id"].ToString();
        if (text.Length == 0)
        {
            return null;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0
            ? id
            : throw ProblemException.BadRequest("device_id", "'device_id' must be a positive integer.");
    }

    private static int Limit(HttpRequest request) => ApiHttp.Limit(request, DeviceHealthReader.DefaultLimit, DeviceHealthReader.MaxLimit);
}
