using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Nms.Core.Alerting;
using Nms.Core.Api;
using Nms.Core.Entities;
using Nms.Functions.Entities;
using Nms.Functions.Http;

namespace Nms.Functions.Alerting;

/// <summary>/api/alerts and /api/silences: readers list; operators acknowledge and silence.</summary>
public sealed class AlertFunctions(AlertService alerts)
{
    [Function("ListAlerts")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> List([HttpTrigger(AuthorizationLevel.Function, "get", Route = "alerts")] HttpRequest request, CancellationToken cancellationToken)
    {
        var device = ApiHttp.QueryString(request, "device_id");
        var query = new AlertQuery(
            ApiHttp.QueryString(request, "state"),
            ApiHttp.QueryString(request, "severity"),
            ApiHttp.QueryString(request, "tag"),
            device is null ? null : long.TryParse(device, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var d) ? d : throw ProblemException.BadRequest("device_id", "'device_id' must be an id."),
            ApiHttp.QueryString(request, "cursor"),
            ApiHttp.QueryInt(request, "limit"));
        return ApiHttp.Ok(await alerts.ListAsync(query, cancellationToken));
    }

    [Function("GetAlert")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Function, "get", Route = "alerts/{id}")] HttpRequest request, string id, CancellationToken cancellationToken) =>
        ApiHttp.Ok(await alerts.GetAsync(ApiHttp.Id(id, "alert"), cancellationToken));

    [Function("AcknowledgeAlert")]
    [RequireRole(Role.Operator)]
    public async Task<IActionResult> Acknowledge([HttpTrigger(AuthorizationLevel.Function, "post", Route = "alerts/{id}/acknowledge")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var alertId = ApiHttp.Id(id, "alert");
        var body = await HttpJson.ReadAsync<AcknowledgeRequest>(request, cancellationToken);
        return ApiHttp.Ok(await alerts.AcknowledgeAsync(alertId, Caller(request), body, cancellationToken));
    }

    [Function("ListSilences")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> ListSilences([HttpTrigger(AuthorizationLevel.Function, "get", Route = "silences")] HttpRequest request, CancellationToken cancellationToken) =>
        ApiHttp.Ok(new ItemList<Silence>(await alerts.ListSilencesAsync(cancellationToken)));

    [Function("CreateSilence")]
    [RequireRole(Role.Operator)]
    public async Task<IActionResult> CreateSilence([HttpTrigger(AuthorizationLevel.Function, "post", Route = "silences")] HttpRequest request, CancellationToken cancellationToken)
    {
        var silence = await alerts.SilenceAsync(Caller(request), await HttpJson.ReadAsync<SilenceRequest>(request, cancellationToken), cancellationToken);
        return ApiHttp.Created(silence, $"/api/silences/{silence.Id}");
    }

    [Function("DeleteSilence")]
    [RequireRole(Role.Operator)]
    public async Task<IActionResult> DeleteSilence([HttpTrigger(AuthorizationLevel.Function, "delete", Route = "silences/{id}")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        await alerts.DeleteSilenceAsync(ApiHttp.Id(id, "silence"), cancellationToken);
        return ApiHttp.NoContent();
    }

    /// <summary>The gate authenticated the request before the function ran: the principal is always there.</summary>
    private static ApiPrincipal Caller(HttpRequest request) =>
        ApiGate.PrincipalOf(request.HttpContext) ?? throw new InvalidOperationException("No principal on an authenticated route.");
}
