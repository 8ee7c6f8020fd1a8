using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Nms.Core.Api;
using Nms.Functions.Entities;
using Nms.Functions.Http;

namespace Nms.Functions.OpenApi;

/// <summary>
/// GET /api/openapi.json. Reader, not anonymous: the issue keeps every route but health behind a
/// key, and the document is no use without one anyway.
/// </summary>
public sealed class OpenApiFunction
{
    [Function("OpenApiDocument")]
    [RequireRole(Role.Reader)]
    public Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "openapi.json")] HttpRequest request) =>
        Task.FromResult(ApiHttp.RawJson(OpenApiDocument.Json));
}
