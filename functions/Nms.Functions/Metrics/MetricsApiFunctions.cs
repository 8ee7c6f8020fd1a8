using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Nms.Core.Api;
using Nms.Core.Metrics;
using Nms.Functions.Http;

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
        var deviceId = ApiHttp.Id(id, "device");
        var parsed = query.Parse(request.Query.SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string?>(q.Key, v))));
        return ApiHttp.Ok(await query.SeriesAsync(deviceId, parsed, cancellationToken));
    }

    [Function("DeviceSeries")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "devices/{id}/series")] HttpRequest request,
        string id,
        CancellationToken cancellationToken) =>
        ApiHttp.Ok(await query.SeriesListAsync(ApiHttp.Id(id, "device"), cancellationToken));

    [Function("DeviceMetricsLatest")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> Latest(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "devices/{id}/metrics/latest")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        var deviceId = ApiHttp.Id(id, "device");
        return ApiHttp.Ok(await query.LatestAsync(deviceId, request.Query["since"], cancellationToken));
    }
}
