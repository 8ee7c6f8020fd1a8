using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Nms.Core.Api;
using Nms.Core.Entities;
using Nms.Functions.Http;

namespace Nms.Functions.Entities;

/// <summary>/api/discovery_profiles: operators run them (discovery's routes); defining them, with their credentials, is an admin's job.</summary>
public sealed class DiscoveryProfileFunctions(DiscoveryProfileService profiles)
{
    private const string Collection = "discovery_profiles";
    private const string Item = "discovery_profiles/{id}";

    [Function("ListDiscoveryProfiles")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = Collection)] HttpRequest request,
        CancellationToken cancellationToken) =>
        ApiHttp.Ok(new ItemList<DiscoveryProfile>(await profiles.ListAsync(cancellationToken)));

    [Function("CreateDiscoveryProfile")]
    [RequireRole(Role.Admin)]
    public async Task<IActionResult> Create(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = Collection)] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var body = await HttpJson.ReadAsync<DiscoveryProfileRequest>(request, cancellationToken);
        var profile = await profiles.CreateAsync(body, cancellationToken);
        return ApiHttp.Created(profile, $"/api/{Collection}/{profile.Id}");
    }

    [Function("GetDiscoveryProfile")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = Item)] HttpRequest request,
        string id,
        CancellationToken cancellationToken) =>
        ApiHttp.Ok(await profiles.GetAsync(ParseId(id), cancellationToken));

    [Function("ReplaceDiscoveryProfile")]
    [RequireRole(Role.Admin)]
    public async Task<IActionResult> Replace(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = Item)] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        var profileId = ParseId(id);
        var body = await HttpJson.ReadAsync<DiscoveryProfileRequest>(request, cancellationToken);
        return ApiHttp.Ok(await profiles.ReplaceAsync(profileId, body, cancellationToken));
    }

    [Function("DeleteDiscoveryProfile")]
    [RequireRole(Role.Admin)]
    public async Task<IActionResult> Delete(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = Item)] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        await profiles.DeleteAsync(ParseId(id), cancellationToken);
        return ApiHttp.NoContent();
    }

    private static long ParseId(string id) => ApiHttp.Id(id, "discovery profile");
}
