using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Nms.Core.Alerting;
using Nms.Core.Api;
using Nms.Core.Entities;
using Nms.Functions.Entities;
using Nms.Functions.Http;

namespace Nms.Functions.Alerting;

/// <summary>/api/alert_rules: readers read; admins write.</summary>
public sealed class AlertRuleFunctions(AlertRuleService rules)
{
    private const string Collection = "alert_rules";
    private const string Item = "alert_rules/{id}";

    [Function("ListAlertRules")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> List([HttpTrigger(AuthorizationLevel.Function, "get", Route = Collection)] HttpRequest request, CancellationToken cancellationToken) =>
        ApiHttp.Ok(new ItemList<AlertRule>(await rules.ListAsync(cancellationToken)));

    [Function("CreateAlertRule")]
    [RequireRole(Role.Admin)]
    public async Task<IActionResult> Create([HttpTrigger(AuthorizationLevel.Function, "post", Route = Collection)] HttpRequest request, CancellationToken cancellationToken)
    {
        var rule = await rules.CreateAsync(await HttpJson.ReadAsync<AlertRuleRequest>(request, cancellationToken), cancellationToken);
        return ApiHttp.Created(rule, $"/api/{Collection}/{rule.Id}");
    }

    [Function("GetAlertRule")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Function, "get", Route = Item)] HttpRequest request, string id, CancellationToken cancellationToken) =>
        ApiHttp.Ok(await rules.GetAsync(ParseId(id), cancellationToken));

    [Function("ReplaceAlertRule")]
    [RequireRole(Role.Admin)]
    public async Task<IActionResult> Replace([HttpTrigger(AuthorizationLevel.Function, "put", Route = Item)] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var ruleId = ParseId(id);
        return ApiHttp.Ok(await rules.ReplaceAsync(ruleId, await HttpJson.ReadAsync<AlertRuleRequest>(request, cancellationToken), cancellationToken));
    }

    [Function("DeleteAlertRule")]
    [RequireRole(Role.Admin)]
    public async Task<IActionResult> Delete([HttpTrigger(AuthorizationLevel.Function, "delete", Route = Item)] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        await rules.DeleteAsync(ParseId(id), cancellationToken);
        return ApiHttp.NoContent();
    }

    private static long ParseId(string id) => ApiHttp.Id(id, "alert rule");
}
