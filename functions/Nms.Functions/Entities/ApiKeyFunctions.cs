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

    /// <summary>Who the presented key is: its id, name and role (the console shows only what the role may do). Any role.</summary>
    [Function("CurrentApiKey")]
    [RequireRole(Role.Reader)]
    public IActionResult Current(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "me")] HttpRequest request)
    {
        var principal = ApiGate.PrincipalOf(request.HttpContext) ?? throw new InvalidOperationException("The gate let a request through without a principal.");
        return ApiHttp.Ok(new CurrentKey(principal.KeyId, principal.Name, principal.Role.ToString().ToLowerInvariant()));
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

/// <summary>The body of GET /api/me.</summary>
public sealed record CurrentKey(string KeyId, string Name, string Role);
