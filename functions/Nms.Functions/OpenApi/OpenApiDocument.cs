using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Nms.Functions.OpenApi;

/// <summary>The document served at /api/openapi.json: every <see cref="IOpenApiPaths"/> of this assembly, built once.</summary>
public static class OpenApiDocument
{
    private static readonly Lazy<string> Cached = new(() => Build().ToJsonString(new JsonSerializerOptions { WriteIndented = false }));

    public static string Json => Cached.Value;

    public static JsonObject Build()
    {
        var api = new OpenApiBuilder();
        var contributions = typeof(OpenApiDocument).Assembly.GetTypes()
            .Where(t => typeof(IOpenApiPaths).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .OrderBy(t => t.FullName, StringComparer.Ordinal);
        foreach (var type in contributions)
        {
            ((IOpenApiPaths)Activator.CreateInstance(type, nonPublic: true)!).AddTo(api);
        }

        var version = typeof(OpenApiDocument).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "1.0.0";
        return api.Build(version);
    }
}
