using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Azure.Functions.Worker;
using Nms.Core.Api;
using Nms.Functions;

namespace Nms.Tests.Entities;

/// <summary>One HTTP method on one route, as a [Function] with an [HttpTrigger] declares it.</summary>
public sealed record HttpRoute(string Method, string Route, MethodInfo Function, HttpTriggerAttribute Trigger)
{
    /// <summary>"GET /devices/{id}": the route with constraints, defaults and catch-all stars stripped, as OpenAPI writes paths.</summary>
    public string Key => $"{Method} /{Normalized}";

    public string Normalized => Regex.Replace(Route.Trim('/'), @"\{\*?([A-Za-z_][A-Za-z0-9_]*)[^}]*\}", "{$1}");

    public Role? Role => Function.GetCustomAttribute<AnonymousAttribute>() is not null ? null : Function.GetCustomAttribute<RequireRoleAttribute>()?.Role;

    public override string ToString() => Key;

    /// <summary>Every HTTP route of the Nms.Functions assembly, one entry per method.</summary>
    public static IReadOnlyList<HttpRoute> All() =>
        typeof(NmsFunctionsServices).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static))
            .Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null)
            .SelectMany(m => m.GetParameters()
                .Select(p => p.GetCustomAttribute<HttpTriggerAttribute>())
                .OfType<HttpTriggerAttribute>()
                .SelectMany(trigger => (trigger.Methods ?? []).Select(method => new HttpRoute(method.ToUpperInvariant(), trigger.Route ?? m.GetCustomAttribute<FunctionAttribute>()!.Name, m, trigger))))
            .OrderBy(r => r.Key, StringComparer.Ordinal)
            .ToList();

    /// <summary>A concrete path for the route: 999999 (or a zero GUID for :guid) for every parameter.</summary>
    public string SamplePath() => Regex.Replace(Route.Trim('/'), @"\{[^}]*\}", m => m.Value.Contains(":guid", StringComparison.OrdinalIgnoreCase) ? Guid.Empty.ToString() : "999999");
}
