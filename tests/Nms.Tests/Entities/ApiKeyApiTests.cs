using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Nms.Core.Api;
using Nms.Core.Entities;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Entities;

public sealed class ApiKeyApiTests(EntityApp fixture) : IClassFixture<EntityApp>
{
    private HttpClient Admin => fixture.Admin;

    [Fact]
    public async Task The_key_is_shown_once_and_never_listed()
    {
        var created = await Admin.SendJsonAsync(HttpMethod.Post, "api_keys", new { name = "ci", role = "operator" });

        created.AssertStatus(HttpStatusCode.Created);
        var key = created.String("key");
        var id = created.String("id");
        Assert.Matches("^nms_[0-9a-f]{12}_[0-9a-f]{64}$", key);
        Assert.Equal(key.Split('_')[1], created.String("key_prefix"));
        var list = await Admin.GetJsonAsync("api_keys");
        var one = await Admin.GetJsonAsync($"api_keys/{id}");
        Assert.Contains(list.Json.GetProperty("items").EnumerateArray(), k => k.GetProperty("id").GetString() == id);
        Assert.All(list.Json.GetProperty("items").EnumerateArray(), k => Assert.False(k.TryGetProperty("key", out _)));
        Assert.DoesNotContain(key.Split('_')[2], list.Raw, StringComparison.Ordinal);
        Assert.DoesNotContain(key.Split('_')[2], one.Raw, StringComparison.Ordinal);
        Assert.Equal("operator", one.String("role"));
    }

    [Fact]
    public async Task Only_the_hash_is_stored()
    {
        var key = await fixture.CreateKeyAsync("reader");

        var stored = await fixture.App.Database.ScalarAsync<byte[]>("SELECT key_hash FROM api_keys WHERE key_prefix = $1", key.Split('_')[1]);

        Assert.Equal(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)), stored);
        Assert.Equal(0L, await fixture.App.Database.ScalarAsync<long>(
            "SELECT count(*) FROM api_keys WHERE position($1 in name || role || key_prefix) > 0", key.Split('_')[2]));
    }

    [Fact]
    public async Task A_created_key_works_as_bearer_and_as_x_api_key_with_its_role()
    {
        var key = await fixture.CreateKeyAsync("reader");
        using var bearer = fixture.Client(key);
        using var header = fixture.Client(null);

        var viaBearer = await bearer.GetJsonAsync("devices");
        var viaHeader = await header.SendRawAsync(HttpMethod.Get, "devices", null, r => r.Headers.Add("X-Api-Key", key));
        var tooLow = await bearer.SendJsonAsync(HttpMethod.Post, "devices", new { ip = "127.2.0.1", port = 161, plugin = "snmp" });

        viaBearer.AssertStatus(HttpStatusCode.OK);
        viaHeader.AssertStatus(HttpStatusCode.OK);
        tooLow.AssertProblem(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task A_revoked_key_is_refused_and_revoking_again_keeps_the_first_time()
    {
        var created = await Admin.SendJsonAsync(HttpMethod.Post, "api_keys", new { name = "short-lived", role = "admin" });
        using var client = fixture.Client(created.String("key"));
        (await client.GetJsonAsync("api_keys")).AssertStatus(HttpStatusCode.OK);

        var revoked = await Admin.SendJsonAsync(HttpMethod.Delete, $"api_keys/{created.String("id")}");
        var again = await Admin.SendJsonAsync(HttpMethod.Delete, $"api_keys/{created.String("id")}");

        revoked.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(revoked.String("revoked_at"), again.String("revoked_at"));
        (await client.GetJsonAsync("api_keys")).AssertProblem(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("nms_000000000000_0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("nms_short_x")]
    [InlineData("not-a-key")]
    public async Task Unknown_or_malformed_keys_are_401(string key)
    {
        using var client = fixture.Client(key);

        (await client.GetJsonAsync("devices")).AssertProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_key_with_the_right_prefix_and_a_wrong_secret_is_401()
    {
        var key = await fixture.CreateKeyAsync("admin");
        var forged = key[..^4] + (key.EndsWith("0000", StringComparison.Ordinal) ? "1111" : "0000");
        using var client = fixture.Client(forged);

        (await client.GetJsonAsync("devices")).AssertProblem(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("""{"role":"reader"}""", "name")]
    [InlineData("""{"name":"k"}""", "role")]
    [InlineData("""{"name":"k","role":"root"}""", "role")]
    [InlineData("""{"name":"k","role":"reader","key":"mine"}""", "key")]
    public async Task Invalid_create_is_400_naming_the_field(string body, string field)
    {
        (await Admin.SendRawAsync(HttpMethod.Post, "api_keys", body)).AssertProblem(HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task Unknown_key_id_is_404()
    {
        (await Admin.GetJsonAsync($"api_keys/{Guid.NewGuid()}")).AssertProblem(HttpStatusCode.NotFound);
        (await Admin.GetJsonAsync("api_keys/12")).AssertProblem(HttpStatusCode.NotFound);
        (await Admin.SendJsonAsync(HttpMethod.Delete, $"api_keys/{Guid.NewGuid()}")).AssertProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Last_used_is_written_once_per_resolution_not_per_request()
    {
        var key = await fixture.CreateKeyAsync("reader");
        var prefix = key.Split('_')[1];
        var authenticator = fixture.App.Services.GetRequiredService<IApiKeyAuthenticator>();
        Assert.IsType<ApiKeyService>(authenticator);

        var principal = await authenticator.AuthenticateAsync(key, CancellationToken.None);
        var first = await fixture.App.Database.ScalarAsync<DateTime>("SELECT last_used_at FROM api_keys WHERE key_prefix = $1", prefix);
        for (var i = 0; i < 5; i++)
        {
            await authenticator.AuthenticateAsync(key, CancellationToken.None);
        }

        var later = await fixture.App.Database.ScalarAsync<DateTime>("SELECT last_used_at FROM api_keys WHERE key_prefix = $1", prefix);
        Assert.Equal(Role.Reader, principal!.Role);
        Assert.Equal(first, later);
        await fixture.App.Database.ExecuteAsync("UPDATE api_keys SET last_used_at = now() - interval '2 minutes' WHERE key_prefix = $1", prefix);
        await authenticator.AuthenticateAsync(key, CancellationToken.None);
        Assert.True(await fixture.App.Database.ScalarAsync<DateTime>("SELECT last_used_at FROM api_keys WHERE key_prefix = $1", prefix) > DateTime.UtcNow.AddSeconds(-30));
    }

    [Fact]
    public async Task Without_a_bootstrap_setting_there_is_no_bootstrap_key()
    {
        await using var app = await fixture.StartAsync(o => o.Settings["Nms:Auth:BootstrapAdminKey"] = "");
        var authenticator = app.Services.GetRequiredService<IApiKeyAuthenticator>();

        Assert.Null(await authenticator.AuthenticateAsync(app.AdminKey, CancellationToken.None));
        Assert.Null(await authenticator.AuthenticateAsync("", CancellationToken.None));
        using var client = fixture.Client(app.AdminKey, app);
        (await client.GetJsonAsync("devices")).AssertProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Logs_name_the_key_id_and_never_the_key()
    {
        var created = await Admin.SendJsonAsync(HttpMethod.Post, "api_keys", new { name = "logged", role = "reader" });
        using var client = fixture.Client(created.String("key"));
        await client.SendJsonAsync(HttpMethod.Delete, "devices/1");

        await TestApp.EventuallyAsync(() => Task.FromResult(fixture.App.Logs.All.Contains(created.String("id"), StringComparison.Ordinal)), "the key id in the logs");
        Assert.DoesNotContain(created.String("key").Split('_')[2], fixture.App.Logs.All, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.App.AdminKey, fixture.App.Logs.All, StringComparison.Ordinal);
    }
}
