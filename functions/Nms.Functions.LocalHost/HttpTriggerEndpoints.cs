using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Nms.Core.Api;
using Nms.Functions.Http;

namespace Nms.Functions.LocalHost;

/// <summary>
/// HTTP triggers on Kestrel: the route prefix from host.json, route templates, constraints and
/// methods from the attribute; every invocation wrapped in the app's <see cref="ApiGate"/>.
/// </summary>
public static class HttpTriggerEndpoints
{
    public static void Map(WebApplication app, IEnumerable<FunctionDescriptor> functions, string routePrefix)
    {
        foreach (var function in functions.Where(f => f.Kind == TriggerKind.Http))
        {
            var template = string.IsNullOrEmpty(routePrefix) ? Route(function) : $"{routePrefix}/{Route(function)}";
            var methods = function.Http.Methods is { Length: > 0 } declared
                ? declared.Select(m => m.ToUpperInvariant()).ToArray()
                : ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
            app.MapMethods(template, methods, context => InvokeAsync(context, function)).WithDisplayName(function.Name);
        }

        app.MapFallback(context => ApiGate.WriteProblemAsync(context, ProblemException.NotFound("No such route.")));
    }

    private static string Route(FunctionDescriptor function) => (function.Http.Route ?? function.Name).Trim('/');

    private static Task InvokeAsync(HttpContext context, FunctionDescriptor function)
    {
        var gate = context.RequestServices.GetRequiredService<ApiGate>();
        var invoker = context.RequestServices.GetRequiredService<FunctionInvoker>();
        return gate.InvokeAsync(context, function.Method, async () =>
        {
            var result = await invoker.InvokeAsync(function, context.Request, context, context.RequestAborted);
            await WriteResultAsync(context, result);
        });
    }

    private static Task WriteResultAsync(HttpContext context, object? result) => result switch
    {
        IActionResult action => action.ExecuteResultAsync(new ActionContext(context, context.GetRouteData(), new ActionDescriptor())),
        IResult minimal => minimal.ExecuteAsync(context),
        null => Task.CompletedTask,
        _ => new ObjectResult(result).ExecuteResultAsync(new ActionContext(context, context.GetRouteData(), new ActionDescriptor())),
    };
}
