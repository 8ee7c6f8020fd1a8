using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Nms.Core.Api;
using Nms.Core.Discovery;
using Nms.Functions.Http;

namespace Nms.Functions.Discovery;

/// <summary>Start a discovery run, read one, list a profile's runs or every profile's.</summary>
public sealed class DiscoveryRunFunctions(DiscoveryRuns runs)
{
    [Function("DiscoveryRunStart")]
    [RequireRole(Role.Operator)]
    public async Task<IActionResult> Start(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "discovery_profiles/{id:long}/run")] HttpRequest request,
        long id,
        CancellationToken cancellationToken)
    {
        var run = await runs.StartAsync(id, cancellationToken);
        return ApiHttp.Accepted(run, $"/api/discovery_runs/{run.Id}");
    }

    [Function("DiscoveryRunGet")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "discovery_runs/{id:guid}")] HttpRequest request,
        Guid id,
        CancellationToken cancellationToken) =>
        ApiHttp.Ok(await runs.GetAsync(id, cancellationToken));

    [Function("DiscoveryRunList")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "discovery_profiles/{id:long}/runs")] HttpRequest request,
        long id,
        CancellationToken cancellationToken)
    {
        var limit = ApiHttp.Limit(request, DiscoveryRuns.DefaultRunsListed, DiscoveryRuns.MaxRunsListed);
        return ApiHttp.Ok(new { items = await runs.ListAsync(id, limit, cancellationToken) });
    }

    /// <summary>Every profile's runs, newest first: what the console's overview shows in progress.</summary>
    [Function("DiscoveryRunRecent")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> Recent(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "discovery_runs")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var inProgress = request.Query["in_progress"].ToString() switch
        {
            "" or "false" => false,
            "true" => true,
            _ => throw ProblemException.BadRequest("in_progress", "in_progress must be true or false."),
        };
        var limit = ApiHttp.Limit(request, DiscoveryRuns.DefaultRunsListed, DiscoveryRuns.MaxRunsListed);
        return ApiHttp.Ok(new { items = await runs.ListRecentAsync(inProgress, limit, cancellationToken) });
    }
}
