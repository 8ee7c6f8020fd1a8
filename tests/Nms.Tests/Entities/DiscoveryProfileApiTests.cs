using System.Net;

namespace Nms.Tests.Entities;

public sealed class DiscoveryProfileApiTests(EntityApp fixture) : IClassFixture<EntityApp>
{
    private HttpClient Admin => fixture.Admin;

    private async Task<long> CredentialAsync(string name) =>
        (await Admin.CreateAsync("credential_profiles", new { name, protocol = "snmp_v2c", community = "c" })).GetProperty("id").GetInt64();

    [Fact]
    public async Task Create_returns_the_address_count_and_keeps_credential_order()
    {
        var first = await CredentialAsync("order-1");
        var second = await CredentialAsync("order-2");

        var profile = await Admin.CreateAsync("discovery_profiles", new
        {
            name = "lab", target = "127.0.1.0/24, 127.0.2.1-127.0.2.10", port = 161, plugin = "snmp",
            credential_profile_ids = new[] { second, first }, ping_precheck = true, timeout_ms = 1500, poll_interval_seconds = 30,
        });

        Assert.Equal(254 + 10, profile.GetProperty("address_count").GetInt64());
        Assert.Equal([second, first], profile.GetProperty("credential_profile_ids").EnumerateArray().Select(e => e.GetInt64()));
        Assert.True(profile.GetProperty("ping_precheck").GetBoolean());
        Assert.Equal(1500, profile.GetProperty("timeout_ms").GetInt32());
        Assert.Equal(30, profile.GetProperty("poll_interval_seconds").GetInt32());
        var read = await Admin.GetJsonAsync($"discovery_profiles/{profile.GetProperty("id").GetInt64()}");
        Assert.Equal([second, first], read.Json.GetProperty("credential_profile_ids").EnumerateArray().Select(e => e.GetInt64()));
    }

    [Fact]
    public async Task Defaults_apply_when_options_are_omitted()
    {
        var credential = await CredentialAsync("defaults");

        var profile = await Admin.CreateAsync("discovery_profiles", new { name = "defaults", target = "127.0.5.7", port = 22, plugin = "ssh", credential_profile_ids = new[] { credential } });

        Assert.Equal(1, profile.GetProperty("address_count").GetInt64());
        Assert.False(profile.GetProperty("ping_precheck").GetBoolean());
        Assert.Equal(2000, profile.GetProperty("timeout_ms").GetInt32());
        Assert.Equal(60, profile.GetProperty("poll_interval_seconds").GetInt32());
    }

    [Fact]
    public async Task Put_replaces_the_profile_and_its_credential_list()
    {
        var a = await CredentialAsync("put-a");
        var b = await CredentialAsync("put-b");
        var created = await Admin.CreateAsync("discovery_profiles", new { name = "put", target = "127.0.6.0/30", port = 161, plugin = "snmp", credential_profile_ids = new[] { a, b } });
        var id = created.GetProperty("id").GetInt64();

        var replaced = await Admin.SendJsonAsync(HttpMethod.Put, $"discovery_profiles/{id}", new { name = "put-2", target = "127.0.6.0/29", port = 1161, plugin = "snmp", credential_profile_ids = new[] { b } });

        replaced.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(6, replaced.Long("address_count"));
        Assert.Equal(1161, replaced.Json.GetProperty("port").GetInt32());
        Assert.Equal([b], replaced.Json.GetProperty("credential_profile_ids").EnumerateArray().Select(e => e.GetInt64()));
        (await Admin.SendJsonAsync(HttpMethod.Delete, $"credential_profiles/{a}")).AssertStatus(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task A_stored_target_the_parser_no_longer_accepts_still_reads_without_a_count()
    {
        var credential = await CredentialAsync("legacy");
        var id = (await Admin.CreateAsync("discovery_profiles", new { name = "legacy", target = "127.0.9.1", port = 161, plugin = "snmp", credential_profile_ids = new[] { credential } })).GetProperty("id").GetInt64();
        await fixture.App.Database.ExecuteAsync("UPDATE discovery_profiles SET target = 'written-by-an-older-version' WHERE id = $1", id);

        var read = await Admin.GetJsonAsync($"discovery_profiles/{id}");
        var list = await Admin.GetJsonAsync("discovery_profiles");

        read.AssertStatus(HttpStatusCode.OK);
        Assert.False(read.Json.TryGetProperty("address_count", out _));
        list.AssertStatus(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Duplicate_name_is_409()
    {
        var credential = await CredentialAsync("dup-discovery");
        var body = new { name = "twice", target = "127.0.7.1", port = 161, plugin = "snmp", credential_profile_ids = new[] { credential } };
        await Admin.CreateAsync("discovery_profiles", body);

        (await Admin.SendJsonAsync(HttpMethod.Post, "discovery_profiles", body)).AssertProblem(HttpStatusCode.Conflict, "name");
    }

    public static TheoryData<string, string> InvalidBodies => new()
    {
        { """{"target":"127.0.0.1","port":161,"plugin":"snmp","credential_profile_ids":[CRED]}""", "name" },
        { """{"name":"n","port":161,"plugin":"snmp","credential_profile_ids":[CRED]}""", "target" },
        { """{"name":"n","target":"127.0.0.0/33","port":161,"plugin":"snmp","credential_profile_ids":[CRED]}""", "target" },
        { """{"name":"n","target":"127.0.0.300","port":161,"plugin":"snmp","credential_profile_ids":[CRED]}""", "target" },
        { """{"name":"n","target":"127.0.0.9-127.0.0.1","port":161,"plugin":"snmp","credential_profile_ids":[CRED]}""", "target" },
        { """{"name":"n","target":"10.0.0.0/8","port":161,"plugin":"snmp","credential_profile_ids":[CRED]}""", "target" },
        { """{"name":"n","target":"127.0.0.1","plugin":"snmp","credential_profile_ids":[CRED]}""", "port" },
        { """{"name":"n","target":"127.0.0.1","port":0,"plugin":"snmp","credential_profile_ids":[CRED]}""", "port" },
        { """{"name":"n","target":"127.0.0.1","port":65536,"plugin":"snmp","credential_profile_ids":[CRED]}""", "port" },
        { """{"name":"n","target":"127.0.0.1","port":"161","plugin":"snmp","credential_profile_ids":[CRED]}""", "port" },
        { """{"name":"n","target":"127.0.0.1","port":161,"plugin":"telnet","credential_profile_ids":[CRED]}""", "plugin" },
        { """{"name":"n","target":"127.0.0.1","port":161,"credential_profile_ids":[CRED]}""", "plugin" },
        { """{"name":"n","target":"127.0.0.1","port":161,"plugin":"snmp"}""", "credential_profile_ids" },
        { """{"name":"n","target":"127.0.0.1","port":161,"plugin":"snmp","credential_profile_ids":[]}""", "credential_profile_ids" },
        { """{"name":"n","target":"127.0.0.1","port":161,"plugin":"snmp","credential_profile_ids":[CRED,999999]}""", "credential_profile_ids[1]" },
        { """{"name":"n","target":"127.0.0.1","port":161,"plugin":"snmp","credential_profile_ids":[CRED,CRED]}""", "credential_profile_ids[1]" },
        { """{"name":"n","target":"127.0.0.1","port":161,"plugin":"snmp","credential_profile_ids":[CRED,"x"]}""", "credential_profile_ids[1]" },
        { """{"name":"n","target":"127.0.0.1","port":161,"plugin":"snmp","credential_profile_ids":[CRED],"timeout_ms":50}""", "timeout_ms" },
        { """{"name":"n","target":"127.0.0.1","port":161,"plugin":"snmp","credential_profile_ids":[CRED],"poll_interval_seconds":5}""", "poll_interval_seconds" },
        { """{"name":"n","target":"127.0.0.1","port":161,"plugin":"snmp","credential_profile_ids":[CRED],"poll_interval_seconds":86401}""", "poll_interval_seconds" },
        { """{"name":"n","target":"127.0.0.1","port":161,"plugin":"snmp","credential_profile_ids":[CRED],"ping_precheck":"yes"}""", "ping_precheck" },
        { """{"name":"n","target":"127.0.0.1","port":161,"plugin":"snmp","credential_profile_ids":[CRED],"options":{}}""", "options" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Invalid_body_is_400_naming_the_field(string body, string field)
    {
        var credential = await CredentialAsync($"invalid-{Guid.NewGuid():N}");

        var response = await Admin.SendRawAsync(HttpMethod.Post, "discovery_profiles", body.Replace("CRED", credential.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));

        response.AssertProblem(HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task A_target_over_the_cap_is_400_with_its_address_count()
    {
        var credential = await CredentialAsync("cap");

        var response = await Admin.SendJsonAsync(HttpMethod.Post, "discovery_profiles", new { name = "big", target = "10.0.0.0/15", port = 161, plugin = "snmp", credential_profile_ids = new[] { credential } });

        response.AssertProblem(HttpStatusCode.BadRequest, "target");
        Assert.Equal(131_070, response.Long("address_count"));
        Assert.Equal(65_536, response.Long("max_addresses"));
    }

    [Fact]
    public async Task Unknown_id_is_404_and_delete_keeps_the_devices_it_found()
    {
        var credential = await CredentialAsync("keep-devices");
        var profile = (await Admin.CreateAsync("discovery_profiles", new { name = "finder", target = "127.0.8.1", port = 161, plugin = "snmp", credential_profile_ids = new[] { credential } })).GetProperty("id").GetInt64();
        var device = (await Admin.CreateAsync("devices", new { ip = "127.0.8.1", port = 161, plugin = "snmp" })).GetProperty("id").GetInt64();
        await fixture.App.Database.ExecuteAsync("UPDATE devices SET discovery_profile_id = $1 WHERE id = $2", profile, device);

        (await Admin.SendJsonAsync(HttpMethod.Delete, $"discovery_profiles/{profile}")).AssertStatus(HttpStatusCode.NoContent);

        (await Admin.GetJsonAsync($"discovery_profiles/{profile}")).AssertProblem(HttpStatusCode.NotFound);
        (await Admin.SendJsonAsync(HttpMethod.Delete, $"discovery_profiles/{profile}")).AssertProblem(HttpStatusCode.NotFound);
        var kept = await Admin.GetJsonAsync($"devices/{device}");
        kept.AssertStatus(HttpStatusCode.OK);
        Assert.False(kept.Json.TryGetProperty("discovery_profile_id", out _));
    }
}
