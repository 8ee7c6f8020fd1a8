using Nms.Functions.OpenApi;
using static Nms.Functions.OpenApi.OpenApiBuilder;

namespace Nms.Functions.OperatorConsole;

/// <summary>The console's static files in /api/openapi.json: anonymous, not JSON.</summary>
internal sealed class ConsoleOpenApi : IOpenApiPaths
{
    public void AddTo(OpenApiBuilder api)
    {
        api.Operation("get", "/console/{path}", "Console", "The operator console's static files (HTML, JavaScript, CSS); open /api/console/ in a browser", null, "console")
            .Response(200, "The file, with a Content-Security-Policy header")
            .Response(302, "/api/console → /api/console/")
            .Response(304, "Not modified (ETag)")
            .Errors(404);
    }
}
