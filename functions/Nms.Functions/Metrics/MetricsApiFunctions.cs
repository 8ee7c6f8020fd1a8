using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Nms.Core.Api;
using Nms.Core.Configuration;
using Nms.Core.Metrics;

namespace Nms.Functions.Metrics;

/// <summary>A device's metric series and latest values. Readers may call both.</summary>
public sealed class MetricsApiFunctions(MetricsQuery query)
{
    [Function("DeviceMetrics")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> Series(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "devices/{id}/metrics")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        var deviceId = DeviceId(id);
        var parsed = query.Parse(request.Query.SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string?>(q.Key, v))));
        return new JsonResult(await query.SeriesAsync(deviceId, parsed, cancellationToken), NmsJson.Api);
    }

    [Function("DeviceSeries")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "devices/{id}/series")] HttpRequest request,
        string id,
        CancellationToken cancellationToken) =>
        new JsonResult(await query.SeriesListAsync(DeviceId(id), cancellationToken), NmsJson.Api);

    [Function("DeviceMetricsLatest")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> Latest(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "devices/{id}/metrics/latest")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        var deviceId = DeviceId(id);
        return new JsonResult(await query.LatestAsync(deviceId, request.Query["since"], cancellationToken), NmsJson.Api);
    }

    private static long DeviceId(string id) =>
        long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw ProblemException.NotFound($"Device '{id}' does not exist.");
}
