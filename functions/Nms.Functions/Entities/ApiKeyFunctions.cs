using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Nms.Core.Api;
using Nms.Core.Entities;
using Nms.Functions.Http;

namespace Nms.Functions.Entities;

/// <summary>/api/api_keys: admins only. The key is in the create response and nowhere else, ever.</summary>
public sealed class ApiKeyFunctions(ApiKeyService keys)
{
    private const string Collection = "api_keys";
    private const string Item = "api_keys/{id}";

    [Function("ListApiKeys")]
    [RequireRole(Role.Admin)]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = Collection)] HttpRequest request,
        CancellationToken cancellationToken) =>
        ApiHttp.Ok(new ItemList<ApiKey>(await keys.ListAsync(cancellationToken)));

    [Function("CreateApiKey")]
    [RequireRole(Role.Admin)]
    public async Task<IActionResult> Create(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = Collection)] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var body = await HttpJson.ReadAsync<ApiKeyRequest>(request, cancellationToken);
        var key = await keys.CreateAsync(body, cancellationToken);
        return ApiHttp.Created(key, $"/api/{Collection}/{key.Id}");
    }

    [Function("GetApiKey")]
    [RequireRole(Role.Admin)]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = Item)] HttpRequest request,
        string id,
        CancellationToken cancellationToken) =>
        ApiHttp.Ok(await keys.GetAsync(ApiHttp.GuidId(id, "API key"), cancellationToken));

    /// <summary>Revokes (the row stays, for the audit trail); answers the revoked key.</summary>
    [Function("RevokeApiKey")]
    [RequireRole(Role.Admin)]
    public async Task<IActionResult> Revoke(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = Item)] HttpRequest request,
        string id,
        CancellationToken cancellationToken) =>
        ApiHttp.Ok(await keys.RevokeAsync(ApiHttp.GuidId(id, "API key"), cancellationToken));
}
