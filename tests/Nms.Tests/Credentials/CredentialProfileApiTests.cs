using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Nms.Core.Credentials;
using Nms.Core.Entities;
using Nms.Tests.Entities;

namespace Nms.Tests.Credentials;

public sealed class CredentialProfileApiTests(EntityApp fixture) : IClassFixture<EntityApp>
{
    private HttpClient Admin => fixture.Admin;

    [Fact]
    public async Task Each_protocol_is_created_with_its_settings_and_without_its_secrets()
    {
        var v2c = await Admin.CreateAsync("credential_profiles", new { name = "v2c-a", protocol = "snmp_v2c", community = "community-secret-1" });
        var v3 = await Admin.CreateAsync("credential_profiles", new
        {
            name = "v3-a", protocol = "snmp_v3", user = "monitor", auth_protocol = "sha256", auth_key = "auth-secret-1", priv_protocol = "aes128", priv_key = "priv-secret-1",
        });
        var ssh = await Admin.CreateAsync("credential_profiles", new { name = "ssh-a", protocol = "ssh", user = "root", private_key = "-----BEGIN KEY-----secret", private_key_passphrase = "pass-secret-1" });

        Assert.Equal("snmp_v2c", v2c.GetProperty("protocol").GetString());
        Assert.Equal("monitor", v3.GetProperty("user").GetString());
        Assert.Equal("sha256", v3.GetProperty("auth_protocol").GetString());
        Assert.Equal("aes128", v3.GetProperty("priv_protocol").GetString());
        Assert.Equal("root", ssh.GetProperty("user").GetString());
        Assert.Equal("test1", ssh.GetProperty("secret_key_id").GetString());
        foreach (var profile in new[] { v2c, v3, ssh })
        {
            var fields = profile.EnumerateObject().Select(p => p.Name).ToHashSet();
            Assert.Empty(fields.Intersect(["community", "auth_key", "priv_key", "password", "private_key", "private_key_passphrase"]));
        }

        var read = await Admin.GetJsonAsync($"credential_profiles/{v3.GetProperty("id").GetInt64()}");
        read.AssertStatus(HttpStatusCode.OK);
        Assert.DoesNotContain("auth-secret-1", read.Raw, StringComparison.Ordinal);
        var list = await Admin.GetJsonAsync("credential_profiles");
        Assert.Contains(list.Json.GetProperty("items").EnumerateArray(), p => p.GetProperty("name").GetString() == "ssh-a");
    }

    [Fact]
    public async Task Secrets_are_sealed_at_rest_and_open_to_the_plugin_reader_only()
    {
        var profile = await Admin.CreateAsync("credential_profiles", new { name = "sealed", protocol = "ssh", user = "ops", password = "rest-secret-pw" });
        var id = profile.GetProperty("id").GetInt64();

        var stored = await fixture.App.Database.ScalarAsync<byte[]>("SELECT secret_ciphertext FROM credential_profiles WHERE id = $1", id);
        var settings = await fixture.App.Database.ScalarAsync<string>("SELECT settings::text FROM credential_profiles WHERE id = $1", id);
        Assert.DoesNotContain("rest-secret-pw", System.Text.Encoding.UTF8.GetString(stored), StringComparison.Ordinal);
        Assert.DoesNotContain("rest-secret-pw", settings, StringComparison.Ordinal);

        var opened = await fixture.App.Services.GetRequiredService<CredentialReader>().ReadAsync([id], CancellationToken.None);
        Assert.Equal("rest-secret-pw", opened[id].Password);
        Assert.Equal("ops", opened[id].User);
        Assert.Equal("ssh", opened[id].Protocol);
    }

    [Fact]
    public async Task Put_replaces_settings_and_secrets()
    {
        var created = await Admin.CreateAsync("credential_profiles", new { name = "replace-me", protocol = "snmp_v2c", community = "old-community" });
        var id = created.GetProperty("id").GetInt64();

        var replaced = await Admin.SendJsonAsync(HttpMethod.Put, $"credential_profiles/{id}", new { name = "replaced", protocol = "snmp_v3", user = "u3", auth_protocol = "sha1", auth_key = "new-auth-key" });

        replaced.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("replaced", replaced.String("name"));
        Assert.Equal("snmp_v3", replaced.String("protocol"));
        var opened = await fixture.App.Services.GetRequiredService<CredentialReader>().ReadAsync([id], CancellationToken.None);
        Assert.Equal("new-auth-key", opened[id].AuthKey);
        Assert.Null(opened[id].Community);
    }

    [Fact]
    public async Task Duplicate_name_is_409_on_create_and_on_replace()
    {
        await Admin.CreateAsync("credential_profiles", new { name = "dup", protocol = "snmp_v2c", community = "c1" });
        var other = await Admin.CreateAsync("credential_profiles", new { name = "dup-other", protocol = "snmp_v2c", community = "c1" });

        var second = await Admin.SendJsonAsync(HttpMethod.Post, "credential_profiles", new { name = "dup", protocol = "snmp_v2c", community = "c2" });
        var rename = await Admin.SendJsonAsync(HttpMethod.Put, $"credential_profiles/{other.GetProperty("id").GetInt64()}", new { name = "dup", protocol = "snmp_v2c", community = "c2" });

        second.AssertProblem(HttpStatusCode.Conflict, "name");
        rename.AssertProblem(HttpStatusCode.Conflict, "name");
    }

    public static TheoryData<string, string> InvalidBodies => new()
    {
        { """{"protocol":"snmp_v2c","community":"c"}""", "name" },
        { """{"name":"x","community":"c"}""", "protocol" },
        { """{"name":"x","protocol":"snmp_v4","community":"c"}""", "protocol" },
        { """{"name":"x","protocol":"snmp_v1","community":"c","user":"u"}""", "user" },
        { """{"name":"x","protocol":"snmp_v2c"}""", "community" },
        { """{"name":"x","protocol":"snmp_v2c","community":"c","password":"p"}""", "password" },
        { """{"name":"x","protocol":"snmp_v2c","community":42}""", "community" },
        { """{"name":"x","protocol":"snmp_v2c","community":"c","colour":"red"}""", "colour" },
        { """{"name":"x","protocol":"snmp_v3","auth_protocol":"sha1","auth_key":"12345678"}""", "user" },
        { """{"name":"x","protocol":"snmp_v3","user":"u","auth_protocol":"sha3-256","auth_key":"12345678"}""", "auth_protocol" },
        { """{"name":"x","protocol":"snmp_v3","user":"u","auth_protocol":"sha1"}""", "auth_key" },
        { """{"name":"x","protocol":"snmp_v3","user":"u","auth_protocol":"sha1","auth_key":"short"}""", "auth_key" },
        { """{"name":"x","protocol":"snmp_v3","user":"u","auth_key":"12345678"}""", "auth_key" },
        { """{"name":"x","protocol":"snmp_v3","user":"u","priv_protocol":"aes128","priv_key":"12345678"}""", "priv_protocol" },
        { """{"name":"x","protocol":"snmp_v3","user":"u","auth_protocol":"sha1","auth_key":"12345678","priv_protocol":"3des","priv_key":"12345678"}""", "priv_protocol" },
        { """{"name":"x","protocol":"snmp_v3","user":"u","auth_protocol":"sha1","auth_key":"12345678","priv_protocol":"aes256c","priv_key":"12345678"}""", "priv_protocol" },
        { """{"name":"x","protocol":"snmp_v3","user":"u","auth_protocol":"sha1","auth_key":"12345678","priv_protocol":"aes128"}""", "priv_key" },
        { """{"name":"x","protocol":"ssh","password":"p"}""", "user" },
        { """{"name":"x","protocol":"ssh","user":"u"}""", "password" },
        { """{"name":"x","protocol":"ssh","user":"u","password":"p","private_key":"k"}""", "private_key" },
        { """{"name":"x","protocol":"ssh","user":"u","password":"p","private_key_passphrase":"k"}""", "private_key_passphrase" },
        { """{"name":"x","protocol":"ssh","user":"u","password":"p","community":"c"}""", "community" },
        { """{"name":"nul\u0000name","protocol":"snmp_v2c","community":"c"}""", "name" },
    };

    [Fact]
    public async Task Every_snmp_v3_auth_and_priv_protocol_the_codec_speaks_is_accepted_and_read_back()
    {
        string[] auths = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];
        string[] privs = ["none", "des", "aes128", "aes192", "aes256"];
        foreach (var auth in auths)
        {
            foreach (var priv in privs)
            {
                var created = await Admin.CreateAsync("credential_profiles", priv == "none"
                    ? new { name = $"v3-{auth}-{priv}", protocol = "snmp_v3", user = "u", auth_protocol = auth, auth_key = "auth-key-1", priv_protocol = priv, priv_key = (string?)null }
                    : new { name = $"v3-{auth}-{priv}", protocol = "snmp_v3", user = "u", auth_protocol = auth, auth_key = "auth-key-1", priv_protocol = priv, priv_key = (string?)"priv-key-1" });
                Assert.Equal(auth, created.GetProperty("auth_protocol").GetString());
                Assert.Equal(priv, created.GetProperty("priv_protocol").GetString());
            }
        }

        var v1 = await Admin.CreateAsync("credential_profiles", new { name = "v1", protocol = "snmp_v1", community = "c" });
        Assert.Equal("snmp_v1", v1.GetProperty("protocol").GetString());
    }

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Invalid_body_is_400_naming_the_field(string body, string field)
    {
        var response = await Admin.SendRawAsync(HttpMethod.Post, "credential_profiles", body);

        response.AssertProblem(HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task Unknown_or_malformed_id_is_404()
    {
        (await Admin.GetJsonAsync("credential_profiles/987654")).AssertProblem(HttpStatusCode.NotFound);
        (await Admin.GetJsonAsync("credential_profiles/abc")).AssertProblem(HttpStatusCode.NotFound);
        (await Admin.SendJsonAsync(HttpMethod.Delete, "credential_profiles/987654")).AssertProblem(HttpStatusCode.NotFound);
        (await Admin.SendJsonAsync(HttpMethod.Put, "credential_profiles/987654", new { name = "n", protocol = "snmp_v2c", community = "c" })).AssertProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Delete_of_a_profile_in_use_is_409_naming_devices_and_discovery_profiles()
    {
        var credential = (await Admin.CreateAsync("credential_profiles", new { name = "in-use", protocol = "snmp_v2c", community = "c" })).GetProperty("id").GetInt64();
        var device = (await Admin.CreateAsync("devices", new { ip = "127.0.3.1", port = 161, plugin = "snmp", credential_profile_id = credential })).GetProperty("id").GetInt64();
        var discovery = (await Admin.CreateAsync("discovery_profiles", new { name = "uses-it", target = "127.0.3.0/30", port = 161, plugin = "snmp", credential_profile_ids = new[] { credential } })).GetProperty("id").GetInt64();

        var refused = await Admin.SendJsonAsync(HttpMethod.Delete, $"credential_profiles/{credential}");

        refused.AssertProblem(HttpStatusCode.Conflict);
        Assert.Equal([device], refused.Json.GetProperty("device_ids").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal([discovery], refused.Json.GetProperty("discovery_profile_ids").EnumerateArray().Select(e => e.GetInt64()));

        (await Admin.SendJsonAsync(HttpMethod.Delete, $"devices/{device}")).AssertStatus(HttpStatusCode.NoContent);
        (await Admin.SendJsonAsync(HttpMethod.Delete, $"discovery_profiles/{discovery}")).AssertStatus(HttpStatusCode.NoContent);
        (await Admin.SendJsonAsync(HttpMethod.Delete, $"credential_profiles/{credential}")).AssertStatus(HttpStatusCode.NoContent);
        (await Admin.GetJsonAsync($"credential_profiles/{credential}")).AssertProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Credential_profiles_are_sent_and_returned_in_snake_case_only()
    {
        var camel = await Admin.SendRawAsync(HttpMethod.Post, "credential_profiles", """{"name":"camel","protocol":"snmp_v3","user":"u","authProtocol":"sha1","authKey":"12345678"}""");

        camel.AssertProblem(HttpStatusCode.BadRequest, "authProtocol");
        var created = await Admin.CreateAsync("credential_profiles", new { name = "snake", protocol = "snmp_v2c", community = "c" });
        Assert.All(created.EnumerateObject(), p => Assert.Equal(JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name), p.Name));
    }
}
