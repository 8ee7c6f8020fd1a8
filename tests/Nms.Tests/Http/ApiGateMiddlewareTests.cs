using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using Nms.Core.Api;
using Nms.Functions.Http;

namespace Nms.Tests.Http;

/// <summary>
/// The gate on the path Azure runs: the worker middleware with a function context as the isolated worker's
/// ASP.NET Core integration hands it over (the HttpContext in <c>Items["HttpRequestContext"]</c>, the entry
/// point by name). The local host's own path through <see cref="ApiGate"/> is covered by the API tests.
/// </summary>
public sealed class ApiGateMiddlewareTests
{
    private const string ReaderKey = "nms_reader_key";
    private const string AdminRoute = "Nms.Functions.Entities.ApiKeyFunctions.Create";
    private const string ReaderRoute = "Nms.Functions.Entities.DeviceFunctions.List";

    private readonly Mock<IApiKeyAuthenticator> keys = new();
    private int invocations;

    public ApiGateMiddlewareTests()
    {
        keys.Setup(k => k.AuthenticateAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync((ApiPrincipal?)null);
        keys.Setup(k => k.AuthenticateAsync(ReaderKey, It.IsAny<CancellationToken>())).ReturnsAsync(new ApiPrincipal("k1", "reader", Role.Reader));
    }

    [Fact]
    public async Task A_request_without_a_key_gets_401_problem_json_and_the_function_never_runs()
    {
        var http = Request(key: null);

        await Middleware().Invoke(Context(ReaderRoute, http), Next);

        Assert.Equal(0, invocations);
        await AssertProblemAsync(http, StatusCodes.Status401Unauthorized);
    }

    [Fact]
    public async Task A_reader_key_on_an_admin_route_gets_403_and_the_function_never_runs()
    {
        var http = Request(ReaderKey);

        await Middleware().Invoke(Context(AdminRoute, http), Next);

        Assert.Equal(0, invocations);
        await AssertProblemAsync(http, StatusCodes.Status403Forbidden);
    }

    [Fact]
    public async Task A_key_with_the_role_runs_the_function_once_with_its_principal()
    {
        var http = Request(ReaderKey);

        await Middleware().Invoke(Context(ReaderRoute, http), Next);

        Assert.Equal(1, invocations);
        Assert.Equal("k1", ApiGate.PrincipalOf(http)?.KeyId);
    }

    [Fact]
    public async Task A_function_s_problem_becomes_problem_json()
    {
        var http = Request(ReaderKey);

        await Middleware().Invoke(Context(ReaderRoute, http), _ => throw ProblemException.BadRequest("limit", "'limit' must be an integer from 1 to 500."));

        var problem = await AssertProblemAsync(http, StatusCodes.Status400BadRequest);
        Assert.Contains("limit", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_trigger_without_http_passes_straight_through()
    {
        var context = Context("Nms.Functions.Health.FailureConsumerFunction.Run", http: null);

        await Middleware().Invoke(context, Next);

        Assert.Equal(1, invocations);
        keys.Verify(k => k.AuthenticateAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    private ApiGateMiddleware Middleware() => new(new ApiGate(keys.Object, NullLogger<ApiGate>.Instance));

    private Task Next(FunctionContext context)
    {
        Interlocked.Increment(ref invocations);
        return Task.CompletedTask;
    }

    private static DefaultHttpContext Request(string? key)
    {
        var http = new DefaultHttpContext();
        http.Request.Method = "GET";
        http.Request.Path = "/api/devices";
        http.Response.Body = new MemoryStream();
        if (key is not null)
        {
            http.Request.Headers.Authorization = $"Bearer {key}";
        }

        return http;
    }

    private static FunctionContext Context(string entryPoint, HttpContext? http)
    {
        var definition = new Mock<FunctionDefinition>();
        definition.SetupGet(d => d.EntryPoint).Returns(entryPoint);
        var items = new Dictionary<object, object>();
        if (http is not null)
        {
            items["HttpRequestContext"] = http;
        }

        var context = new Mock<FunctionContext>();
        context.SetupGet(c => c.FunctionDefinition).Returns(definition.Object);
        context.SetupGet(c => c.Items).Returns(items);
        return context.Object;
    }

    private static async Task<string> AssertProblemAsync(HttpContext http, int status)
    {
        Assert.Equal(status, http.Response.StatusCode);
        Assert.StartsWith("application/problem+json", http.Response.ContentType, StringComparison.Ordinal);
        http.Response.Body.Position = 0;
        var body = await new StreamReader(http.Response.Body).ReadToEndAsync();
        Assert.Equal(status, JsonDocument.Parse(body).RootElement.GetProperty("status").GetInt32());
        return body;
    }
}
