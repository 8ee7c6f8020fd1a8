using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Nms.Core.Alerting;
using Nms.Core.Api;
using Nms.Functions.Entities;
using Nms.Functions.Http;

namespace Nms.Functions.Alerting;

/// <summary>Tags of a device (operators set them) and of a discovery profile (admins, as the profile itself).</summary>
public sealed class TagFunctions(TagService tags)
{
    [Function("GetDeviceTags")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> GetDevice(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "devices/{id}/tags")] HttpRequest request, string id, CancellationToken cancellationToken) =>
        ApiHttp.Ok(await tags.GetDeviceTagsAsync(ApiHttp.Id(id, "device"), cancellationToken));

    [Function("SetDeviceTags")]
    [RequireRole(Role.Operator)]
    public async Task<IActionResult> SetDevice(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = "devices/{id}/tags")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var deviceId = ApiHttp.Id(id, "device");
        return ApiHttp.Ok(await tags.SetDeviceTagsAsync(deviceId, await HttpJson.ReadAsync<TagsRequest>(request, cancellationToken), cancellationToken));
    }

    [Function("GetDiscoveryProfileTags")]
    [RequireRole(Role.Reader)]
    public async Task<IActionResult> GetDiscovery(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "discovery_profiles/{id}/tags")] HttpRequest request, string id, CancellationToken cancellationToken) =>
        ApiHttp.Ok(await tags.GetDiscoveryTagsAsync(ApiHttp.Id(id, "discovery profile"), cancellationToken));

    [Function("SetDiscoveryProfileTags")]
    [RequireRole(Role.Admin)]
    public async Task<IActionResult> SetDiscovery(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = "discovery_profiles/{id}/tags")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var profileId = ApiHttp.Id(id, "discovery profile");
        return ApiHttp.Ok(await tags.SetDiscoveryTagsAsync(profileId, await HttpJson.ReadAsync<TagsRequest>(request, cancellationToken), cancellationToken));
    }
}
