using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Nms.Core.Api;
using Nms.Core.Entities;
using Nms.Functions.Http;

namespace Nms.Functions.Entities;

/// <summary>/api/poll_profiles: readers see what devices are polled for; defining profiles, like discovery and credential profiles, is an admin's job.</summary>
public sealed class PollProfileFunctions(PollProfileService profiles)
{
    private const string Collection = "poll_profiles";
    private const string Item = "poll_profiles/{id}";

    [Function("ListPollProfiles")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = Collection)] HttpRequest request,
        CancellationToken cancellationToken) =>
        ApiHttp.Ok(new ItemList<PollProfile>(await profiles.ListAsync(cancellationToken)));

    [Function("CreatePollProfile")]
    [RequireRole(Role.Admin)]
    public async Task<IActionResult> Create(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = Collection)] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var body = await HttpJson.ReadAsync<PollProfileRequest>(request, PollProfileService.MaxBodyBytes, cancellationToken);
        var profile = await profiles.CreateAsync(body, cancellationToken);
        return ApiHttp.Created(profile, $"/api/{Collection}/{profile.Id}");
    }

    [Function("GetPollProfile")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = Item)] HttpRequest request,
        string id,
        CancellationToken cancellationToken) =>
        ApiHttp.Ok(await profiles.GetAsync(ParseId(id), cancellationToken));

    [Function("ReplacePollProfile")]
    [RequireRole(Role.Admin)]
    public async Task<IActionResult> Replace(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = Item)] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        var profileId = ParseId(id);
        var body = await HttpJson.ReadAsync<PollProfileRequest>(request, PollProfileService.MaxBodyBytes, cancellationToken);
        return ApiHttp.Ok(await profiles.ReplaceAsync(profileId, body, cancellationToken));
    }

    [Function("DeletePollProfile")]
    [RequireRole(Role.Admin)]
    public async Task<IActionResult> Delete(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = Item)] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        await profiles.DeleteAsync(ParseId(id), cancellationToken);
        return ApiHttp.NoContent();
    }

    private static long ParseId(string id) => ApiHttp.Id(id, "poll profile");
}
