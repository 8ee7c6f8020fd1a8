using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Nms.Core.Api;
using Nms.Core.Entities;
using Nms.Functions.Http;

namespace Nms.Functions.Entities;

/// <summary>/api/devices: readers list and read; operators create, change, deactivate, reactivate and delete.</summary>
public sealed class DeviceFunctions(DeviceService devices)
{
    private const string Collection = "devices";
    private const string Item = "devices/{id}";

    [Function("ListDevices")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = Collection)] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var query = new DeviceQuery(
            ApiHttp.QueryString(request, "status"),
            ApiHttp.QueryString(request, "plugin"),
            ApiHttp.QueryString(request, "q"),
            ApiHttp.QueryString(request, "cursor"),
            ApiHttp.QueryInt(request, "limit"));
        return ApiHttp.Ok(await devices.ListAsync(query, cancellationToken));
    }

    [Function("CreateDevice")]
    [RequireRole(Role.Operator)]
    public async Task<IActionResult> Create(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = Collection)] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var body = await HttpJson.ReadAsync<DeviceCreateRequest>(request, cancellationToken);
        var device = await devices.CreateAsync(body, cancellationToken);
        return ApiHttp.Created(device, $"/api/{Collection}/{device.Id}");
    }

    [Function("GetDevice")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = Item)] HttpRequest request,
        string id,
        CancellationToken cancellationToken) =>
        ApiHttp.Ok(await devices.GetAsync(ParseId(id), cancellationToken));

    [Function("UpdateDevice")]
    [RequireRole(Role.Operator)]
    public async Task<IActionResult> Update(
        [HttpTrigger(AuthorizationLevel.Function, "patch", Route = Item)] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        var deviceId = ParseId(id);
        var body = await HttpJson.ReadAsync<DevicePatchRequest>(request, cancellationToken);
        return ApiHttp.Ok(await devices.UpdateAsync(deviceId, body, cancellationToken));
    }

    [Function("DeleteDevice")]
    [RequireRole(Role.Operator)]
    public async Task<IActionResult> Delete(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = Item)] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        await devices.DeleteAsync(ParseId(id), cancellationToken);
        return ApiHttp.NoContent();
    }

    private static long ParseId(string id) => ApiHttp.Id(id, "device");
}
