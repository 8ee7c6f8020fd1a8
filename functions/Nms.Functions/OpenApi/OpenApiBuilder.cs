// HOW TO ADD YOUR ROUTES TO /api/openapi.json
// ------------------------------------------
// The document is written by hand, and a test (tests/Nms.Tests/Entities/OpenApiTests.cs) checks
// that its operations are exactly the [Function] + [HttpTrigger] routes and methods of this
// assembly, so a route missing from it (or described but gone) fails the build's tests.
// To describe your feature's routes, add one class in your own feature folder, e.g.
//
//     internal sealed class DiscoveryRunPaths : IOpenApiPaths
//     {
//         public void AddTo(OpenApiBuilder api)
//         {
//             api.Schema("DiscoveryRun", OpenApiBuilder.Object(
//                 ("id", OpenApiBuilder.Uuid(), true),
//                 ("status", OpenApiBuilder.Enum("queued", "running", "completed"), true)));
//             api.Operation("post", "/discovery_profiles/{id}/run", "RunDiscoveryProfile", "Start a discovery run", Role.Operator, "discovery")
//                 .Response(202, "The run, queued", OpenApiBuilder.Ref("DiscoveryRun"))
//                 .Errors(404, 409);
//         }
//     }
//
// Every IOpenApiPaths in the assembly is found by reflection (it needs a parameterless
// constructor); nothing else to register. Paths are relative to the server URL "/api" and written
// without route constraints (Route = "discovery_profiles/{id:long}/run" → "/discovery_profiles/{id}/run").
// Path parameters are declared for you as strings; add query parameters with .Query(name, schema,
// description) and a JSON body with .Body(schema) (which also declares its 400 and 413). 401/403
// (for a role), 500 and the security requirement come from the role you pass (null = anonymous),
// which must be the role the function declares (a test compares them). Error bodies are
// Ref(ProblemSchema); the entity routes in Entities/EntityOpenApi.cs are a complete example.

using System.Text.Json.Nodes;
using Nms.Core.Api;

namespace Nms.Functions.OpenApi;

/// <summary>A feature's contribution to the OpenAPI document: its paths and the schemas they use.</summary>
public interface IOpenApiPaths
{
    void AddTo(OpenApiBuilder api);
}

/// <summary>Builds the OpenAPI 3.0 document as JSON nodes, with helpers that keep each route description short.</summary>
public sealed class OpenApiBuilder
{
    public const string ProblemSchema = "Problem";
    private readonly JsonObject paths = [];
    private readonly JsonObject schemas = [];
    private readonly SortedSet<string> tags = new(StringComparer.Ordinal);

    public JsonObject Paths => paths;

    public void Schema(string name, JsonObject schema) => schemas[name] = schema;

    public OpenApiOperation Operation(string method, string path, string operationId, string summary, Role? role, string tag)
    {
        if (paths[path] is not JsonObject pathItem)
        {
            pathItem = [];
            paths[path] = pathItem;
        }

        var operation = new JsonObject
        {
            ["operationId"] = operationId,
            ["summary"] = summary,
            ["tags"] = new JsonArray(tag),
            ["x-nms-role"] = role?.ToString().ToLowerInvariant() ?? "anonymous",
        };
        tags.Add(tag);
        var parameters = new JsonArray();
        foreach (var segment in path.Split('/').Where(s => s.StartsWith('{') && s.EndsWith('}')))
        {
            parameters.Add(new JsonObject { ["name"] = segment[1..^1], ["in"] = "path", ["required"] = true, ["schema"] = String() });
        }

        operation["parameters"] = parameters;
        operation["responses"] = new JsonObject();
        operation["security"] = role is null
            ? new JsonArray()
            : new JsonArray(new JsonObject { ["bearer"] = new JsonArray() }, new JsonObject { ["api_key"] = new JsonArray() });
        pathItem[method.ToLowerInvariant()] = operation;
        var built = new OpenApiOperation(operation);
        if (role is not null)
        {
            built.Errors(401, 403);
        }

        return built.Errors(500);
    }

    public JsonObject Build(string version) => new()
    {
        ["openapi"] = "3.0.3",
        ["info"] = new JsonObject
        {
            ["title"] = "Nms.Functions API",
            ["version"] = version,
            ["description"] = "Network management: credential and discovery profiles, devices, discovery runs, metrics and health. " +
                "Every route except /health needs an API key (Authorization: Bearer <key> or X-Api-Key: <key>) whose role is at least the one in x-nms-role; " +
                "in Azure the function key (x-functions-key header or code query parameter) is needed as well. Errors are RFC 9457 application/problem+json.",
        },
        ["servers"] = new JsonArray(new JsonObject { ["url"] = "/api" }),
        ["tags"] = new JsonArray(tags.Select(t => (JsonNode)new JsonObject { ["name"] = t }).ToArray()),
        ["paths"] = paths,
        ["components"] = new JsonObject
        {
            ["securitySchemes"] = new JsonObject
            {
                ["bearer"] = new JsonObject { ["type"] = "http", ["scheme"] = "bearer", ["description"] = "An API key as a bearer token: nms_<prefix>_<secret>." },
                ["api_key"] = new JsonObject { ["type"] = "apiKey", ["in"] = "header", ["name"] = "X-Api-Key" },
                ["function_key"] = new JsonObject { ["type"] = "apiKey", ["in"] = "header", ["name"] = "x-functions-key", ["description"] = "Azure Functions' own function-level key; not used by the local host." },
            },
            ["schemas"] = schemas,
        },
    };

    // ---- schema helpers ---------------------------------------------------------------------

    public static JsonObject Ref(string schema) => new() { ["$ref"] = $"#/components/schemas/{schema}" };

    public static JsonObject String(string? description = null) => With(new JsonObject { ["type"] = "string" }, description);

    public static JsonObject WriteOnlyString(string description) => new() { ["type"] = "string", ["writeOnly"] = true, ["description"] = description };

    public static JsonObject Enum(params string[] values) => new() { ["type"] = "string", ["enum"] = new JsonArray(values.Select(v => (JsonNode)v).ToArray()) };

    public static JsonObject Integer(long? minimum = null, long? maximum = null, string? description = null)
    {
        var schema = new JsonObject { ["type"] = "integer" };
        if (minimum is not null)
        {
            schema["minimum"] = minimum;
        }

        if (maximum is not null)
        {
            schema["maximum"] = maximum;
        }

        return With(schema, description);
    }

    public static JsonObject Id() => new() { ["type"] = "integer", ["format"] = "int64", ["minimum"] = 1 };

    public static JsonObject Uuid() => new() { ["type"] = "string", ["format"] = "uuid" };

    public static JsonObject Boolean(string? description = null) => With(new JsonObject { ["type"] = "boolean" }, description);

    public static JsonObject DateTime() => new() { ["type"] = "string", ["format"] = "date-time" };

    public static JsonObject Number() => new() { ["type"] = "number" };

    public static JsonObject Array(JsonObject items) => new() { ["type"] = "array", ["items"] = items };

    public static JsonObject Nullable(JsonObject schema)
    {
        schema["nullable"] = true;
        return schema;
    }

    /// <summary>An object that refuses unknown fields; each property is (name, schema, required).</summary>
    public static JsonObject Object(params (string Name, JsonObject Schema, bool Required)[] properties)
    {
        var props = new JsonObject();
        foreach (var (name, schema, _) in properties)
        {
            props[name] = schema;
        }

        var schemaObject = new JsonObject { ["type"] = "object", ["additionalProperties"] = false, ["properties"] = props };
        var required = properties.Where(p => p.Required).Select(p => (JsonNode)p.Name).ToArray();
        if (required.Length > 0)
        {
            schemaObject["required"] = new JsonArray(required);
        }

        return schemaObject;
    }

    private static JsonObject With(JsonObject schema, string? description)
    {
        if (description is not null)
        {
            schema["description"] = description;
        }

        return schema;
    }
}

/// <summary>One operation being described; each method returns it again for chaining.</summary>
public sealed class OpenApiOperation(JsonObject operation)
{
    private static readonly Dictionary<int, string> ErrorDescriptions = new()
    {
        [400] = "Invalid request: the problem's 'field' names the field at fault",
        [401] = "No API key, or an unknown or revoked one",
        [403] = "The key's role is too low for this route",
        [404] = "Not found",
        [409] = "Conflict",
        [413] = "Body larger than 1 MiB",
        [500] = "Internal error (logged; no detail is returned)",
        [503] = "Unavailable",
    };

    public OpenApiOperation Query(string name, JsonObject schema, string description)
    {
        ((JsonArray)operation["parameters"]!).Add(new JsonObject { ["name"] = name, ["in"] = "query", ["required"] = false, ["description"] = description, ["schema"] = schema });
        return this;
    }

    /// <summary>A JSON request body; also declares the 400 and 413 it can cause.</summary>
    public OpenApiOperation Body(JsonObject schema, string description = "JSON, snake_case; unknown fields are refused")
    {
        operation["requestBody"] = new JsonObject
        {
            ["required"] = true,
            ["description"] = description,
            ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = schema } },
        };
        return Errors(400, 413);
    }

    public OpenApiOperation Response(int status, string description, JsonObject? schema = null)
    {
        var response = new JsonObject { ["description"] = description };
        if (schema is not null)
        {
            response["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = schema } };
        }

        Responses[Code(status)] = response;
        return this;
    }

    public OpenApiOperation Errors(params int[] statuses)
    {
        foreach (var status in statuses)
        {
            Responses[Code(status)] = new JsonObject
            {
                ["description"] = ErrorDescriptions.GetValueOrDefault(status, "Error"),
                ["content"] = new JsonObject { ["application/problem+json"] = new JsonObject { ["schema"] = OpenApiBuilder.Ref(OpenApiBuilder.ProblemSchema) } },
            };
        }

        return this;
    }

    private JsonObject Responses => (JsonObject)operation["responses"]!;

    private static string Code(int status) => status.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
