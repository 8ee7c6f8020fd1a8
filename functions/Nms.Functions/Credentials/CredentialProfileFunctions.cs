using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Nms.Core.Api;
using Nms.Core.Credentials;
using Nms.Core.Entities;
using Nms.Functions.Http;

namespace Nms.Functions.Credentials;

/// <summary>/api/credential_profiles: readers see names and settings; only admins write (secrets are write-only).</summary>
public sealed class CredentialProfileFunctions(CredentialProfileService profiles)
{
    private const string Collection = "credential_profiles";
    private const string Item = "credential_profiles/{id}";

    [Function("ListCredentialProfiles")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = Collection)] HttpRequest request,
        CancellationToken cancellationToken) =>
        ApiHttp.Ok(new ItemList<CredentialProfile>(await profiles.ListAsync(cancellationToken)));

    [Function("CreateCredentialProfile")]
    [RequireRole(Role.Admin)]
    public async Task<IActionResult> Create(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = Collection)] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var body = await HttpJson.ReadAsync<CredentialProfileRequest>(request, cancellationToken);
        var profile = await profiles.CreateAsync(body, cancellationToken);
        return ApiHttp.Created(profile, $"/api/{Collection}/{profile.Id}");
    }

    [Function("GetCredentialProfile")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = Item)] HttpRequest request,
        string id,
        CancellationToken cancellationToken) =>
        ApiHttp.Ok(await profiles.GetAsync(ParseId(id), cancellationToken));

    [Function("ReplaceCredentialProfile")]
    [RequireRole(Role.Admin)]
    public async Task<IActionResult> Replace(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = Item)] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        var profileId = ParseId(id);
        var body = await HttpJson.ReadAsync<CredentialProfileRequest>(request, cancellationToken);
        return ApiHttp.Ok(await profiles.ReplaceAsync(profileId, body, cancellationToken));
    }

    [Function("DeleteCredentialProfile")]
    [RequireRole(Role.Admin)]
    public async Task<IActionResult> Delete(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = Item)] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        await profiles.DeleteAsync(ParseId(id), cancellationToken);
        return ApiHttp.NoContent();
    }

    private static long ParseId(string id) => ApiHttp.Id(id, "credential profile");
}
