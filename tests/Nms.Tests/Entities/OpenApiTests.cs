using System.Net;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nms.Core.Configuration;
using Nms.Core.Credentials;
using Nms.Core.Entities;
using Nms.Functions.OpenApi;

namespace Nms.Tests.Entities;

public sealed class OpenApiTests(EntityApp fixture) : IClassFixture<EntityApp>
{
    private static readonly string[] HttpMethods = ["get", "put", "post", "delete", "patch", "head", "options"];

    private static JsonObject Document => OpenApiDocument.Build();

    [Fact]
    public void The_document_describes_exactly_the_routes_the_functions_expose()
    {
        var described = ((JsonObject)Document["paths"]!)
            .SelectMany(path => ((JsonObject)path.Value!).Where(op => HttpMethods.Contains(op.Key)).Select(op => $"{op.Key.ToUpperInvariant()} {path.Key}"))
            .Order(StringComparer.Ordinal);
        var exposed = HttpRoute.All().Select(r => r.Key).Order(StringComparer.Ordinal);

        Assert.Equal(exposed, described);
    }

    [Fact]
    public void Each_operation_states_the_role_its_function_declares_and_its_path_parameters()
    {
        var paths = (JsonObject)Document["paths"]!;
        foreach (var route in HttpRoute.All())
        {
            var operation = paths["/" + route.Normalized]![route.Method.ToLowerInvariant()]!;
            Assert.Equal(route.Role?.ToString().ToLowerInvariant() ?? "anonymous", operation["x-nms-role"]!.GetValue<string>());
            Assert.Equal(route.Role is null, ((JsonArray)operation["security"]!).Count == 0);
            var declared = ((JsonArray)operation["parameters"]!).Where(p => p!["in"]!.GetValue<string>() == "path").Select(p => p!["name"]!.GetValue<string>());
            var inRoute = System.Text.RegularExpressions.Regex.Matches(route.Normalized, @"\{(\w+)\}").Select(m => m.Groups[1].Value);
            Assert.Equal(inRoute, declared);
            Assert.NotNull(operation["responses"]!["500"]);
            Assert.True(((JsonObject)operation["responses"]!).Any(r => r.Key.StartsWith('2')), $"{route} has no success response");
        }
    }

    [Fact]
    public void Every_reference_resolves_and_security_schemes_are_declared()
    {
        var document = Document;
        var schemas = (JsonObject)document["components"]!["schemas"]!;
        var text = document.ToJsonString();
        foreach (System.Text.RegularExpressions.Match reference in System.Text.RegularExpressions.Regex.Matches(text, "#/components/schemas/(\\w+)"))
        {
            Assert.True(schemas.ContainsKey(reference.Groups[1].Value), $"unresolved {reference.Value}");
        }

        var schemes = (JsonObject)document["components"]!["securitySchemes"]!;
        Assert.Equal("bearer", schemes["bearer"]!["scheme"]!.GetValue<string>());
        Assert.Equal("X-Api-Key", schemes["api_key"]!["name"]!.GetValue<string>());
        Assert.Equal("3.0.3", document["openapi"]!.GetValue<string>());
    }

    /// <summary>A real OpenAPI reader and its validator accept it: no structural error, no rule broken.</summary>
    [Fact]
    public void The_document_is_valid_openapi_3()
    {
        var parsed = new Microsoft.OpenApi.Readers.OpenApiStringReader().Read(OpenApiDocument.Json, out var diagnostic);
        var broken = Microsoft.OpenApi.Extensions.OpenApiElementExtensions.Validate(parsed, Microsoft.OpenApi.Validations.ValidationRuleSet.GetDefaultRuleSet());

        Assert.Empty(diagnostic.Errors.Select(e => $"{e.Pointer}: {e.Message}"));
        Assert.Empty(broken.Select(e => $"{e.Pointer}: {e.Message}"));
        Assert.Equal(Microsoft.OpenApi.OpenApiSpecVersion.OpenApi3_0, diagnostic.SpecificationVersion);
        Assert.Equal(HttpRoute.All().Count, parsed.Paths.Sum(p => p.Value.Operations.Count));
    }

    public static TheoryData<string, Type> SchemaTypes => new()
    {
        { "CredentialProfileRequest", typeof(CredentialProfileRequest) },
        { "CredentialProfile", typeof(CredentialProfile) },
        { "DiscoveryProfileRequest", typeof(DiscoveryProfileRequest) },
        { "DiscoveryProfile", typeof(DiscoveryProfile) },
        { "DeviceCreateRequest", typeof(DeviceCreateRequest) },
        { "DevicePatchRequest", typeof(DevicePatchRequest) },
        { "Device", typeof(Device) },
        { "DevicePage", typeof(Page<Device>) },
        { "ApiKeyRequest", typeof(ApiKeyRequest) },
        { "ApiKey", typeof(ApiKey) },
        { "CreatedApiKey", typeof(CreatedApiKey) },
    };

    /// <summary>The hand-written schemas name exactly the fields the records serialize.</summary>
    [Theory]
    [MemberData(nameof(SchemaTypes))]
    public void Schema_properties_match_the_record_on_the_wire(string schema, Type type)
    {
        var described = ((JsonObject)Document["components"]!["schemas"]![schema]!["properties"]!).Select(p => p.Key).Order(StringComparer.Ordinal);
        var serialized = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => NmsJson.Api.PropertyNamingPolicy!.ConvertName(p.Name))
            .Order(StringComparer.Ordinal);

        Assert.Equal(serialized, described);
    }

    [Fact]
    public async Task The_document_is_served_to_readers_and_not_without_a_key()
    {
        var reader = await fixture.CreateKeyAsync("reader");
        using var client = fixture.Client(reader);
        using var anonymous = fixture.Client(null);

        var served = await client.GetJsonAsync("openapi.json");
        var refused = await anonymous.GetJsonAsync("openapi.json");

        served.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("application/json", served.ContentType);
        Assert.Equal(OpenApiDocument.Json, served.Raw);
        Assert.True(JsonDocument.Parse(served.Raw).RootElement.GetProperty("paths").TryGetProperty("/devices/{id}", out _));
        refused.AssertProblem(HttpStatusCode.Unauthorized);
    }
}
