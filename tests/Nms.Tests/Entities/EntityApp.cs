using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Entities;

/// <summary>
/// One app (local host, own database) per test class, with two fake plugins installed ("snmp" and
/// "ssh": the entity API only needs them to exist) and every response body recorded, so a test
/// can assert that a secret never came back.
/// </summary>
public sealed class EntityApp : IAsyncLifetime
{
    private readonly ConcurrentQueue<string> responses = new();

    public TestApp App { get; private set; } = null!;

    private readonly FakePlugins plugins = CreateFakePlugins();

    public string PluginsDirectory => plugins.Directory;

    /// <summary>Bootstrap admin key, recording responses.</summary>
    public HttpClient Admin { get; private set; } = null!;

    public IReadOnlyCollection<string> ResponseBodies => responses;

    public async Task InitializeAsync()
    {
        App = await StartAsync(null);
        Admin = Client(App.AdminKey);
    }

    public Task<TestApp> StartAsync(Action<TestAppOptions>? configure) => TestApp.StartAsync(options =>
    {
        options.Settings["Nms:Plugins:Directory"] = PluginsDirectory;
        configure?.Invoke(options);
    });

    /// <summary>A client for <paramref name="apiKey"/> (none: anonymous) whose responses are recorded.</summary>
    public HttpClient Client(string? apiKey, TestApp? app = null)
    {
        var client = new HttpClient(new Recorder(responses)) { BaseAddress = (app ?? App).BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    /// <summary>A key of <paramref name="role"/>, created through the API.</summary>
    public async Task<string> CreateKeyAsync(string role)
    {
        var created = await Admin.SendJsonAsync(HttpMethod.Post, "api_keys", new { name = $"{role}-{Guid.NewGuid():N}", role });
        created.AssertStatus(HttpStatusCode.Created);
        return created.String("key");
    }

    public async Task DisposeAsync()
    {
        Admin.Dispose();
        await App.DisposeAsync();
        plugins.Dispose();
    }

    private static FakePlugins CreateFakePlugins()
    {
        var plugins = new FakePlugins();
        plugins.AddSilent("snmp", "ssh");
        return plugins;
    }

    private sealed class Recorder(ConcurrentQueue<string> bodies) : DelegatingHandler(new HttpClientHandler())
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            bodies.Enqueue(body);
            var copy = new StringContent(body, Encoding.UTF8);
            copy.Headers.ContentType = response.Content.Headers.ContentType;
            response.Content = copy;
            return response;
        }
    }
}

/// <summary>A response read whole: status, content type, raw body and its JSON.</summary>
public sealed class ApiResponse(HttpStatusCode status, string? contentType, string raw, HttpResponseMessage message)
{
    public HttpStatusCode Status { get; } = status;
    public string? ContentType { get; } = contentType;
    public string Raw { get; } = raw;
    public HttpResponseMessage Message { get; } = message;

    public JsonElement Json => JsonDocument.Parse(Raw).RootElement;

    public string String(string property) => Json.GetProperty(property).GetString()!;

    public long Long(string property) => Json.GetProperty(property).GetInt64();

    /// <summary>The problem's "field", or null.</summary>
    public string? Field => Json.TryGetProperty("field", out var value) ? value.GetString() : null;

    public void AssertStatus(HttpStatusCode expected)
    {
        Assert.True(Status == expected, $"expected {(int)expected}, got {(int)Status}: {Raw}");
    }

    /// <summary>An RFC 9457 problem with this status and (when given) this field, and no internals.</summary>
    public void AssertProblem(HttpStatusCode expected, string? field = null)
    {
        AssertStatus(expected);
        Assert.Equal("application/problem+json", ContentType);
        Assert.Equal((int)expected, Json.GetProperty("status").GetInt32());
        if (field is not null)
        {
            Assert.Equal(field, Field);
        }

        EntityAssert.NoInternals(Raw);
    }
}

public static class EntityHttpExtensions
{
    public static Task<ApiResponse> SendJsonAsync(this HttpClient client, HttpMethod method, string path, object? body = null) =>
        client.SendRawAsync(method, path, body is null ? null : JsonSerializer.Serialize(body, TestApp.Json));

    public static async Task<ApiResponse> SendRawAsync(this HttpClient client, HttpMethod method, string path, string? json, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        configure?.Invoke(request);
        var response = await client.SendAsync(request);
        var raw = await response.Content.ReadAsStringAsync();
        return new ApiResponse(response.StatusCode, response.Content.Headers.ContentType?.MediaType, raw, response);
    }

    public static Task<ApiResponse> GetJsonAsync(this HttpClient client, string path) => client.SendJsonAsync(HttpMethod.Get, path);

    /// <summary>Creates and returns the created resource, failing the test on anything but 201.</summary>
    public static async Task<JsonElement> CreateAsync(this HttpClient client, string collection, object body)
    {
        var response = await client.SendJsonAsync(HttpMethod.Post, collection, body);
        response.AssertStatus(HttpStatusCode.Created);
        return response.Json;
    }
}

public static class EntityAssert
{
    /// <summary>No stack trace, exception type or SQL ever reaches a client.</summary>
    public static void NoInternals(string body)
    {
        foreach (var marker in new[] { "   at ", "Exception", "Npgsql", "SELECT ", "INSERT ", "UPDATE ", "DELETE FROM", "violates", "constraint" })
        {
            Assert.DoesNotContain(marker, body, StringComparison.Ordinal);
        }
    }
}
