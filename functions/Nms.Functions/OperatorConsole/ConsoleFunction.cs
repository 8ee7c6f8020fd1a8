using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Nms.Core.Api;

namespace Nms.Functions.OperatorConsole;

/// <summary>
/// GET /api/console/…: the operator console's static files, served by the app itself under both
/// hosts (no CDN, so it works inside a VNet). Anonymous, because a browser fetches the page before
/// anyone signs in; every byte of data then comes from the key-protected API beside it.
/// </summary>
public sealed class ConsoleFunction(ConsoleAssets assets)
{
    /// <summary>
    /// Scripts and styles from this origin only, no inline script or style, no plugins, no framing,
    /// data only from the API on the same origin.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    [Function("Console")]
    [Anonymous]
    public IActionResult Get(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console/{*path}")] HttpRequest request,
        string? path)
    {
        if (string.IsNullOrEmpty(path) && !request.Path.Value!.EndsWith('/'))
        {
            // Relative asset URLs in index.html resolve against ".../console/".
            return new RedirectResult(request.PathBase + request.Path + "/", permanent: false);
        }

        if (!assets.Built)
        {
            throw ProblemException.NotFound($"The console is not built into this app ({assets.Directory} has no {ConsoleAssets.IndexFile}): build with Node.js and npm on PATH.");
        }

        var asset = assets.Find(string.IsNullOrEmpty(path) ? ConsoleAssets.IndexFile : path)
            ?? throw ProblemException.NotFound($"No console file '{path}'.");
        return new AssetResult(asset);
    }

    private sealed class AssetResult(ConsoleAsset asset) : IActionResult
    {
        public async Task ExecuteResultAsync(ActionContext context)
        {
            var request = context.HttpContext.Request;
            var response = context.HttpContext.Response;
            var headers = response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            // Revalidate every time: a deploy changes the files under the same names.
            headers.CacheControl = "no-cache";
            headers.ETag = asset.ETag;
            if (request.Headers.IfNoneMatch == asset.ETag)
            {
                response.StatusCode = StatusCodes.Status304NotModified;
                return;
            }

            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = asset.ContentType;
            response.ContentLength = asset.Content.Length;
            await response.Body.WriteAsync(asset.Content, context.HttpContext.RequestAborted);
        }
    }
}
