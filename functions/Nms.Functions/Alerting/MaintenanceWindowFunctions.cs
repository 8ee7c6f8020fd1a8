using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Nms.Core.Alerting;
using Nms.Core.Api;
using Nms.Core.Entities;
using Nms.Functions.Entities;
using Nms.Functions.Http;

namespace Nms.Functions.Alerting;

/// <summary>/api/maintenance_windows: readers read; operators plan maintenance (as they silence alerts).</summary>
public sealed class MaintenanceWindowFunctions(MaintenanceService windows)
{
    private const string Collection = "maintenance_windows";
    private const string Item = "maintenance_windows/{id}";

    [Function("ListMaintenanceWindows")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> List([HttpTrigger(AuthorizationLevel.Function, "get", Route = Collection)] HttpRequest request, CancellationToken cancellationToken) =>
        ApiHttp.Ok(new ItemList<MaintenanceWindow>(await windows.ListAsync(cancellationToken)));

    [Function("CreateMaintenanceWindow")]
    [RequireRole(Role.Operator)]
    public async Task<IActionResult> Create([HttpTrigger(AuthorizationLevel.Function, "post", Route = Collection)] HttpRequest request, CancellationToken cancellationToken)
    {
        var window = await windows.CreateAsync(await HttpJson.ReadAsync<MaintenanceWindowRequest>(request, cancellationToken), cancellationToken);
        return ApiHttp.Created(window, $"/api/{Collection}/{window.Id}");
    }

    [Function("GetMaintenanceWindow")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Function, "get", Route = Item)] HttpRequest request, string id, CancellationToken cancellationToken) =>
        ApiHttp.Ok(await windows.GetAsync(ParseId(id), cancellationToken));

    [Function("ReplaceMaintenanceWindow")]
    [RequireRole(Role.Operator)]
    public async Task<IActionResult> Replace([HttpTrigger(AuthorizationLevel.Function, "put", Route = Item)] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var windowId = ParseId(id);
        return ApiHttp.Ok(await windows.ReplaceAsync(windowId, await HttpJson.ReadAsync<MaintenanceWindowRequest>(request, cancellationToken), cancellationToken));
    }

    [Function("DeleteMaintenanceWindow")]
    [RequireRole(Role.Operator)]
    public async Task<IActionResult> Delete([HttpTrigger(AuthorizationLevel.Function, "delete", Route = Item)] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        await windows.DeleteAsync(ParseId(id), cancellationToken);
        return ApiHttp.NoContent();
    }

    private static long ParseId(string id) => ApiHttp.Id(id, "maintenance window");
}
