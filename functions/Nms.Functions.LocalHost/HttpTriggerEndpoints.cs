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
    /// <summary>Methods a 405 may be answered for; anything else falls through to the 404.</summary>
    private static readonly string[] KnownMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"];

    public static void Map(WebApplication app, IEnumerable<FunctionDescriptor> functions, string routePrefix)
    {
        var allowed = new Dictionary<string, SortedSet<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var function in functions.Where(f => f.Kind == TriggerKind.Http))
        {
            var template = string.IsNullOrEmpty(routePrefix) ? Route(function) : $"{routePrefix}/{Route(function)}";
            var methods = function.Http.Methods is { Length: > 0 } declared
                ? declared.Select(m => m.ToUpperInvariant()).ToArray()
                : ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
            app.MapMethods(template, methods, context => InvokeAsync(context, function)).WithDisplayName(function.Name);
            if (!allowed.TryGetValue(template, out var set))
            {
                allowed[template] = set = new SortedSet<string>(StringComparer.Ordinal);
            }

            set.UnionWith(methods);
        }

        // A route that exists but not for this method: 405 with Allow. Each template's endpoint has its
        // own order after the functions', so a function always wins and two 405s are never ambiguous.
        var order = 1_000;
        foreach (var (template, methods) in allowed)
        {
            var allow = string.Join(", ", methods);
            var others = KnownMethods.Except(methods, StringComparer.Ordinal).ToArray();
            if (others.Length > 0)
            {
                app.MapMethods(template, others, context => MethodNotAllowedAsync(context, allow)).WithOrder(order++).WithDisplayName($"405 {template}");
            }
        }

        // Every other path, dots included ("{**path}", unlike MapFallback's default "{*path:nonfile}").
        app.MapFallback("{**path}", context => ApiGate.WriteProblemAsync(context, ProblemException.NotFound("No such route.")));
    }

    private static Task MethodNotAllowedAsync(HttpContext context, string allow) => ApiGate.WriteProblemAsync(context,
        new ProblemException(405, "Method not allowed", $"{context.Request.Method} is not allowed on this route; it allows {allow}."),
        new Dictionary<string, string> { ["Allow"] = allow });

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
