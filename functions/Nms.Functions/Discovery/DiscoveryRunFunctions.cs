using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Nms.Core.Api;
using Nms.Core.Configuration;
using Nms.Core.Discovery;

namespace Nms.Functions.Discovery;

/// <summary>Start a discovery run, read one, list a profile's runs.</summary>
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
        return new JsonResult(run, NmsJson.Api) { StatusCode = StatusCodes.Status202Accepted }
            .WithLocation($"/api/discovery_runs/{run.Id}");
    }

    [Function("DiscoveryRunGet")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "discovery_runs/{id:guid}")] HttpRequest request,
        Guid id,
        CancellationToken cancellationToken) =>
        new JsonResult(await runs.GetAsync(id, cancellationToken), NmsJson.Api);

    [Function("DiscoveryRunList")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "discovery_profiles/{id:long}/runs")] HttpRequest request,
        long id,
        CancellationToken cancellationToken) =>
        new JsonResult(new { items = await runs.ListAsync(id, Limit(request), cancellationToken) }, NmsJson.Api);

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
        return new JsonResult(new { items = await runs.ListRecentAsync(inProgress, Limit(request), cancellationToken) }, NmsJson.Api);
    }

    private static int Limit(HttpRequest request)
    {
        var limit = 50;
        if (request.Query.TryGetValue("limit", out var raw)
            && (!int.TryParse(raw, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > DiscoveryRuns.MaxRunsListed))
        {
            throw ProblemException.BadRequest("limit", $"limit must be 1 to {DiscoveryRuns.MaxRunsListed}.");
        }

        return limit;
    }
}

internal static class LocationResult
{
    /// <summary>A JSON result that also sets the Location header.</summary>
    public static IActionResult WithLocation(this JsonResult result, string location) =>
        new LocatedJsonResult(result, location);

    private sealed class LocatedJsonResult(JsonResult inner, string location) : IActionResult
    {
        public Task ExecuteResultAsync(ActionContext context)
        {
            context.HttpContext.Response.Headers.Location = location;
            return inner.ExecuteResultAsync(context);
        }
    }
}
