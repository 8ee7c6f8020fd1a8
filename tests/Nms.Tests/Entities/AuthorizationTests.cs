using System.Net;
using Microsoft.Azure.Functions.Worker;
using Nms.Core.Api;

namespace Nms.Tests.Entities;

/// <summary>Who may call what: declared on every function, and enforced over real HTTP for every role.</summary>
public sealed class AuthorizationTests(AuthorizationTests.Keys keys) : IClassFixture<AuthorizationTests.Keys>
{
    /// <summary>The issue's role table for the entity routes: reader reads, operator changes devices, admin does everything else.</summary>
    private static readonly Dictionary<string, Role?> Expected = new()
    {
        ["GET /health"] = null,
        ["GET /openapi.json"] = Role.Reader,
        ["GET /credential_profiles"] = Role.Reader,
        ["POST /credential_profiles"] = Role.Admin,
        ["GET /credential_profiles/{id}"] = Role.Reader,
        ["PUT /credential_profiles/{id}"] = Role.Admin,
        ["DELETE /credential_profiles/{id}"] = Role.Admin,
        ["GET /discovery_profiles"] = Role.Reader,
        ["POST /discovery_profiles"] = Role.Admin,
        ["GET /discovery_profiles/{id}"] = Role.Reader,
        ["PUT /discovery_profiles/{id}"] = Role.Admin,
        ["DELETE /discovery_profiles/{id}"] = Role.Admin,
        ["GET /discovery_profiles/{id}/tags"] = Role.Reader,
        ["PUT /discovery_profiles/{id}/tags"] = Role.Admin,
        ["POST /discovery_profiles/{id}/run"] = Role.Operator,
        ["GET /poll_profiles"] = Role.Reader,
        ["POST /poll_profiles"] = Role.Admin,
        ["GET /poll_profiles/{id}"] = Role.Reader,
        ["PUT /poll_profiles/{id}"] = Role.Admin,
        ["DELETE /poll_profiles/{id}"] = Role.Admin,
        ["GET /discovery_profiles/{id}/runs"] = Role.Reader,
        ["GET /devices"] = Role.Reader,
        ["POST /devices"] = Role.Operator,
        ["GET /devices/{id}"] = Role.Reader,
        ["PATCH /devices/{id}"] = Role.Operator,
        ["DELETE /devices/{id}"] = Role.Operator,
        // Tags (issue 14): operators tag devices.
        ["GET /devices/{id}/tags"] = Role.Reader,
        ["PUT /devices/{id}/tags"] = Role.Operator,
        // Metrics (issue 6) live under /devices too.
        ["GET /devices/{id}/metrics"] = Role.Reader,
        ["GET /devices/{id}/metrics/latest"] = Role.Reader,
        ["GET /devices/{id}/series"] = Role.Reader,
        ["GET /api_keys"] = Role.Admin,
        ["POST /api_keys"] = Role.Admin,
        ["GET /api_keys/{id}"] = Role.Admin,
        ["DELETE /api_keys/{id}"] = Role.Admin,
        ["GET /me"] = Role.Reader,
    };

    private static readonly string[] EntityPrefixes = ["/credential_profiles", "/discovery_profiles", "/poll_profiles", "/devices", "/api_keys", "/openapi.json", "/me"];

    [Fact]
    public void Every_http_function_declares_a_role_or_anonymous()
    {
        var undeclared = HttpRoute.All().Where(r => r.Function.GetCustomAttributes(typeof(RequireRoleAttribute), false).Length == 0
            && r.Function.GetCustomAttributes(typeof(AnonymousAttribute), false).Length == 0);

        Assert.Empty(undeclared.Select(r => $"{r.Function.DeclaringType!.Name}.{r.Function.Name}"));
        Assert.NotEmpty(HttpRoute.All());
    }

    [Fact]
    public void Every_http_function_but_health_keeps_the_function_key_gate()
    {
        var routes = HttpRoute.All();

        Assert.All(routes.Where(r => r.Role is not null), r => Assert.True(r.Trigger.AuthLevel == AuthorizationLevel.Function, $"{r} is {r.Trigger.AuthLevel}"));
        // The console's static files are fetched before anyone signs in; its data comes from the gated routes.
        Assert.Equal(["GET /console/{path}", "GET /health"], routes.Where(r => r.Role is null).Select(r => r.Key));
    }

    [Fact]
    public void Entity_routes_declare_the_roles_of_the_issue()
    {
        var declared = HttpRoute.All()
            .Where(r => r.Key == "GET /health" || EntityPrefixes.Any(p => r.Key.Split(' ')[1].StartsWith(p, StringComparison.Ordinal)))
            .ToDictionary(r => r.Key, r => r.Role);

        Assert.Equal(Expected.OrderBy(p => p.Key), declared.OrderBy(p => p.Key));
    }

    public static TheoryData<string, string, string> RoutesAndCallers()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var route in HttpRoute.All())
        {
            foreach (var caller in new[] { "none", "reader", "operator", "admin" })
            {
                data.Add(route.Method, route.Route, caller);
            }
        }

        return data;
    }

    /// <summary>
    /// Every route in the assembly (other features' too) against every role: no key → 401, a role
    /// below the declared one → 403, enough → anything but 401/403. Ids are ones that do not exist
    /// and bodies are empty objects, so nothing is changed by the calls that get through.
    /// </summary>
    [Theory]
    [MemberData(nameof(RoutesAndCallers))]
    public async Task The_gate_enforces_the_declared_role(string method, string route, string caller)
    {
        var target = HttpRoute.All().Single(r => r.Method == method && r.Route == route);
        using var client = keys.Client(caller);
        var hasBody = method is "POST" or "PUT" or "PATCH";

        var response = await client.SendRawAsync(new HttpMethod(method), target.SamplePath(), hasBody ? "{}" : null);

        var required = target.Role;
        if (required is null)
        {
            Assert.NotEqual(HttpStatusCode.Unauthorized, response.Status);
            Assert.NotEqual(HttpStatusCode.Forbidden, response.Status);
        }
        else if (caller == "none")
        {
            response.AssertProblem(HttpStatusCode.Unauthorized);
        }
        else if (Enum.Parse<Role>(caller, ignoreCase: true) < required)
        {
            response.AssertProblem(HttpStatusCode.Forbidden);
        }
        else
        {
            Assert.True(response.Status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.InternalServerError), $"{method} {route} as {caller}: {(int)response.Status} {response.Raw}");
        }
    }

    /// <summary>One app and one key per role (created through the API) for the whole table.</summary>
    public sealed class Keys : IAsyncLifetime
    {
        private readonly EntityApp entities = new();
        private readonly Dictionary<string, string> byRole = [];

        public HttpClient Client(string caller) => entities.Client(caller == "none" ? null : byRole[caller]);

        public async Task InitializeAsync()
        {
            await entities.InitializeAsync();
            foreach (var role in new[] { "reader", "operator", "admin" })
            {
                byRole[role] = await entities.CreateKeyAsync(role);
            }
        }

        public Task DisposeAsync() => entities.DisposeAsync();
    }
}
