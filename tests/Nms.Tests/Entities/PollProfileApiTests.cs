using System.Net;
using System.Text;
using Nms.Core.Devices;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Entities;

public sealed class PollProfileApiTests(EntityApp fixture) : IClassFixture<EntityApp>
{
    private HttpClient Admin => fixture.Admin;

    private static object Ups(string name) => new
    {
        name,
        max_requests = 20,
        scalars = new object[] { new { oid = "1.3.6.1.2.1.33.1.2.4.0", metric = "ups_charge_percent" } },
        tables = new object[]
        {
            new
            {
                columns = new object[] { new { oid = "1.3.6.1.2.1.31.1.1.1.6", metric = "port_in_octets_total", kind = "counter", counter_bits = 64 } },
                index_label = "if_index",
                lookups = new object[] { new { oid = "1.3.6.1.2.1.31.1.1.1.1", label = "interface" } },
            },
        },
    };

    [Fact]
    public async Task Create_read_list_replace_and_delete_round_trip_the_definition()
    {
        var created = await Admin.CreateAsync("poll_profiles", Ups("ups-crud"));
        var id = created.GetProperty("id").GetInt64();

        var read = await Admin.GetJsonAsync($"poll_profiles/{id}");
        read.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("ups-crud", read.String("name"));
        Assert.Equal(20, read.Json.GetProperty("max_requests").GetInt32());
        Assert.Equal("ups_charge_percent", read.Json.GetProperty("scalars")[0].GetProperty("metric").GetString());
        var table = read.Json.GetProperty("tables")[0];
        Assert.Equal("if_index", table.GetProperty("index_label").GetString());
        Assert.Equal(64, table.GetProperty("columns")[0].GetProperty("counter_bits").GetInt32());
        Assert.Equal("counter", table.GetProperty("columns")[0].GetProperty("kind").GetString());
        Assert.Equal("interface", table.GetProperty("lookups")[0].GetProperty("label").GetString());
        var list = await Admin.GetJsonAsync("poll_profiles");
        Assert.Contains(list.Json.GetProperty("items").EnumerateArray(), p => p.GetProperty("id").GetInt64() == id);

        var replaced = await Admin.SendJsonAsync(HttpMethod.Put, $"poll_profiles/{id}", new
        {
            name = "ups-crud-2",
            scalars = new object[] { new { oid = "1.3.6.1.4.1.8072.1.3.2.3.1.1.4.116.101.109.112", metric = "temperature_celsius", kind = "gauge" } },
        });
        replaced.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("ups-crud-2", replaced.String("name"));
        Assert.Equal(0, replaced.Json.GetProperty("tables").GetArrayLength());
        Assert.False(replaced.Json.TryGetProperty("max_requests", out _));

        (await Admin.SendJsonAsync(HttpMethod.Delete, $"poll_profiles/{id}")).AssertStatus(HttpStatusCode.NoContent);
        (await Admin.GetJsonAsync($"poll_profiles/{id}")).AssertProblem(HttpStatusCode.NotFound);
        (await Admin.SendJsonAsync(HttpMethod.Delete, $"poll_profiles/{id}")).AssertProblem(HttpStatusCode.NotFound);
        (await Admin.SendJsonAsync(HttpMethod.Put, $"poll_profiles/{id}", Ups("gone"))).AssertProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Duplicate_name_is_409_naming_it()
    {
        await Admin.CreateAsync("poll_profiles", Ups("twice"));

        (await Admin.SendJsonAsync(HttpMethod.Post, "poll_profiles", Ups("twice"))).AssertProblem(HttpStatusCode.Conflict, "name");
    }

    [Fact]
    public async Task Delete_while_a_device_or_discovery_profile_uses_it_is_409_and_keeps_it()
    {
        var id = (await Admin.CreateAsync("poll_profiles", Ups("in-use"))).GetProperty("id").GetInt64();
        var device = (await Admin.CreateAsync("devices", new { ip = "127.0.8.9", port = 161, plugin = "snmp", poll_profile_id = id })).GetProperty("id").GetInt64();
        var credential = (await Admin.CreateAsync("credential_profiles", new { name = "in-use", protocol = "snmp_v2c", community = "c" })).GetProperty("id").GetInt64();
        var discovery = (await Admin.CreateAsync("discovery_profiles", new { name = "in-use", target = "127.0.8.10", port = 161, plugin = "snmp", credential_profile_ids = new[] { credential }, poll_profile_id = id })).GetProperty("id").GetInt64();

        var refused = await Admin.SendJsonAsync(HttpMethod.Delete, $"poll_profiles/{id}");

        refused.AssertProblem(HttpStatusCode.Conflict);
        Assert.Equal([device], refused.Json.GetProperty("device_ids").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal([discovery], refused.Json.GetProperty("discovery_profile_ids").EnumerateArray().Select(e => e.GetInt64()));
        (await Admin.GetJsonAsync($"poll_profiles/{id}")).AssertStatus(HttpStatusCode.OK);
        (await Admin.SendJsonAsync(HttpMethod.Delete, $"devices/{device}")).AssertStatus(HttpStatusCode.NoContent);
        (await Admin.SendJsonAsync(HttpMethod.Delete, $"discovery_profiles/{discovery}")).AssertStatus(HttpStatusCode.NoContent);
        (await Admin.SendJsonAsync(HttpMethod.Delete, $"poll_profiles/{id}")).AssertStatus(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Devices_take_a_poll_profile_on_create_and_patch_and_an_unknown_one_is_400()
    {
        var first = (await Admin.CreateAsync("poll_profiles", Ups("device-1"))).GetProperty("id").GetInt64();
        var second = (await Admin.CreateAsync("poll_profiles", Ups("device-2"))).GetProperty("id").GetInt64();

        var created = await Admin.CreateAsync("devices", new { ip = "127.0.8.20", port = 161, plugin = "snmp", poll_profile_id = first });
        var id = created.GetProperty("id").GetInt64();
        var patched = await Admin.SendJsonAsync(HttpMethod.Patch, $"devices/{id}", new { poll_profile_id = second });
        var plain = await Admin.CreateAsync("devices", new { ip = "127.0.8.21", port = 161, plugin = "snmp" });

        Assert.Equal(first, created.GetProperty("poll_profile_id").GetInt64());
        patched.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(second, patched.Long("poll_profile_id"));
        Assert.False(plain.TryGetProperty("poll_profile_id", out _));
        (await Admin.SendJsonAsync(HttpMethod.Post, "devices", new { ip = "127.0.8.22", port = 161, plugin = "snmp", poll_profile_id = 999999 }))
            .AssertProblem(HttpStatusCode.BadRequest, "poll_profile_id");
        (await Admin.SendJsonAsync(HttpMethod.Patch, $"devices/{id}", new { poll_profile_id = 999999 })).AssertProblem(HttpStatusCode.BadRequest, "poll_profile_id");
        Assert.Equal(second, (await Admin.GetJsonAsync($"devices/{id}")).Long("poll_profile_id"));

        // A PATCH without the field keeps the profile; an explicit null puts the device back on the default set.
        var untouched = await Admin.SendJsonAsync(HttpMethod.Patch, $"devices/{id}", new { poll_interval_seconds = 120 });
        Assert.Equal(second, untouched.Long("poll_profile_id"));
        var reset = await Admin.SendRawAsync(HttpMethod.Patch, $"devices/{id}", """{ "poll_profile_id": null }""");
        reset.AssertStatus(HttpStatusCode.OK);
        Assert.False(reset.Json.TryGetProperty("poll_profile_id", out _));
        Assert.True(await fixture.App.Database.ScalarAsync<bool>("SELECT poll_profile_id IS NULL FROM devices WHERE id = $1", id));
        Assert.Equal(120, (await Admin.GetJsonAsync($"devices/{id}")).Json.GetProperty("poll_interval_seconds").GetInt32());
        (await Admin.GetJsonAsync("devices/999999")).AssertProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Discovery_profiles_take_a_poll_profile_and_the_devices_they_find_inherit_it()
    {
        var poll = (await Admin.CreateAsync("poll_profiles", Ups("inherited"))).GetProperty("id").GetInt64();
        var credential = (await Admin.CreateAsync("credential_profiles", new { name = "inherit", protocol = "snmp_v2c", community = "c" })).GetProperty("id").GetInt64();
        var body = new { name = "inherit", target = "127.0.8.30", port = 161, plugin = "snmp", credential_profile_ids = new[] { credential }, poll_profile_id = poll };
        var discovery = await Admin.CreateAsync("discovery_profiles", body);
        var discoveryId = discovery.GetProperty("id").GetInt64();

        await fixture.App.Database.DataSource.InTransactionAsync((connection, transaction) => DeviceLifecycle.ProvisionManyAsync(connection, transaction,
            [new DeviceProvision(IPAddress.Parse("127.0.8.30"), 161, "snmp", 60, credential, discoveryId)], DateTimeOffset.UtcNow, CancellationToken.None));

        Assert.Equal(poll, discovery.GetProperty("poll_profile_id").GetInt64());
        Assert.Equal(poll, await fixture.App.Database.ScalarAsync<long>("SELECT poll_profile_id FROM devices WHERE ip = '127.0.8.30'"));
        (await Admin.SendJsonAsync(HttpMethod.Put, $"discovery_profiles/{discoveryId}", body with { }))
            .AssertStatus(HttpStatusCode.OK);
        (await Admin.SendJsonAsync(HttpMethod.Post, "discovery_profiles", new { name = "inherit-bad", target = "127.0.8.31", port = 161, plugin = "snmp", credential_profile_ids = new[] { credential }, poll_profile_id = 999999 }))
            .AssertProblem(HttpStatusCode.BadRequest, "poll_profile_id");
        (await Admin.SendJsonAsync(HttpMethod.Put, $"discovery_profiles/{discoveryId}", new { name = "inherit", target = "127.0.8.30", port = 161, plugin = "snmp", credential_profile_ids = new[] { credential }, poll_profile_id = 999999 }))
            .AssertProblem(HttpStatusCode.BadRequest, "poll_profile_id");
        var cleared = await Admin.SendJsonAsync(HttpMethod.Put, $"discovery_profiles/{discoveryId}", new { name = "inherit", target = "127.0.8.30", port = 161, plugin = "snmp", credential_profile_ids = new[] { credential } });
        Assert.False(cleared.Json.TryGetProperty("poll_profile_id", out _));
    }

    public static TheoryData<string, string> InvalidBodies => new()
    {
        { """{"scalars":[{"oid":"1.3.6.1.2.1.1.3.0","metric":"up"}]}""", "name" },
        { """{"name":"n"}""", "scalars" },
        { """{"name":"n","scalars":[],"tables":[]}""", "scalars" },
        { """{"name":"n","scalars":[null]}""", "scalars[0]" },
        { """{"name":"n","scalars":[{"metric":"up"}]}""", "scalars[0].oid" },
        { """{"name":"n","scalars":[{"oid":"1","metric":"up"}]}""", "scalars[0].oid" },
        { """{"name":"n","scalars":[{"oid":"3.6.1","metric":"up"}]}""", "scalars[0].oid" },
        { """{"name":"n","scalars":[{"oid":".1.3.6.1","metric":"up"}]}""", "scalars[0].oid" },
        { """{"name":"n","scalars":[{"oid":"1.3.6.1.","metric":"up"}]}""", "scalars[0].oid" },
        { """{"name":"n","scalars":[{"oid":"1.3.06.1","metric":"up"}]}""", "scalars[0].oid" },
        { """{"name":"n","scalars":[{"oid":"1.3.6.4294967296","metric":"up"}]}""", "scalars[0].oid" },
        { """{"name":"n","scalars":[{"oid":"iso.3.6.1","metric":"up"}]}""", "scalars[0].oid" },
        { """{"name":"n","scalars":[{"oid":"1.3.6.1"}]}""", "scalars[0].metric" },
        { """{"name":"n","scalars":[{"oid":"1.3.6.1","metric":"Up"}]}""", "scalars[0].metric" },
        { """{"name":"n","scalars":[{"oid":"1.3.6.1","metric":"9up"}]}""", "scalars[0].metric" },
        { """{"name":"n","scalars":[{"oid":"1.3.6.1","metric":"if-up"}]}""", "scalars[0].metric" },
        { """{"name":"n","scalars":[{"oid":"1.3.6.1","metric":"up","kind":"histogram"}]}""", "scalars[0].kind" },
        { """{"name":"n","scalars":[{"oid":"1.3.6.1","metric":"up","counter_bits":32}]}""", "scalars[0].counter_bits" },
        { """{"name":"n","scalars":[{"oid":"1.3.6.1","metric":"up","kind":"counter","counter_bits":16}]}""", "scalars[0].counter_bits" },
        { """{"name":"n","scalars":[{"oid":"1.3.6.1","metric":"up","kind":"counter","counter_bits":"32"}]}""", "scalars[0].counter_bits" },
        { """{"name":"n","scalars":[{"oid":"1.3.6.1","metric":"up"},{"oid":"1.3.6.2","metric":"up"}]}""", "scalars[1].metric" },
        { """{"name":"n","scalars":[{"oid":"1.3.6.1","metric":"up"}],"tables":[{"columns":[{"oid":"1.3.6.2","metric":"up"}]}]}""", "tables[0].columns[0].metric" },
        { """{"name":"n","tables":[{}]}""", "tables[0].columns" },
        { """{"name":"n","tables":[{"columns":[]}]}""", "tables[0].columns" },
        { """{"name":"n","tables":[{"columns":[{"oid":"1.3.6.1","metric":"a"},{"oid":"1.3.6.x","metric":"b"},{"oid":"1.3.6.3","metric":"c"}]}]}""", "tables[0].columns[1].oid" },
        { """{"name":"n","tables":[{"columns":[{"oid":"1.3.6.1","metric":"a"}],"index_label":"If Index"}]}""", "tables[0].index_label" },
        { """{"name":"n","tables":[{"columns":[{"oid":"1.3.6.1","metric":"a"}],"lookups":[{"oid":"1.3.6.2"}]}]}""", "tables[0].lookups[0].label" },
        { """{"name":"n","tables":[{"columns":[{"oid":"1.3.6.1","metric":"a"}],"lookups":[{"oid":"1.3.6.2","label":"a-b"}]}]}""", "tables[0].lookups[0].label" },
        { """{"name":"n","tables":[{"columns":[{"oid":"1.3.6.1","metric":"a"}],"lookups":[{"oid":"x","label":"ab"}]}]}""", "tables[0].lookups[0].oid" },
        { """{"name":"n","tables":[{"columns":[{"oid":"1.3.6.1","metric":"a"}],"lookups":[{"oid":"1.3.6.2","label":"index"}]}]}""", "tables[0].lookups[0].label" },
        { """{"name":"n","tables":[{"columns":[{"oid":"1.3.6.1","metric":"a"}],"index_label":"port","lookups":[{"oid":"1.3.6.2","label":"name"},{"oid":"1.3.6.3","label":"name"}]}]}""", "tables[0].lookups[1].label" },
        { """{"name":"n","scalars":[{"oid":"1.3.6.1","metric":"up"}],"max_requests":0}""", "max_requests" },
        { """{"name":"n","scalars":[{"oid":"1.3.6.1","metric":"up"}],"max_requests":1001}""", "max_requests" },
        { """{"name":"n","scalars":[{"oid":"1.3.6.1","metric":"up","unit":"s"}]}""", "scalars[0].unit" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Invalid_body_is_400_naming_the_field(string body, string field)
    {
        var response = await Admin.SendRawAsync(HttpMethod.Post, "poll_profiles", body);

        response.AssertProblem(HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task More_than_256_objects_is_400()
    {
        var columns = Enumerable.Range(1, 257).Select(i => new { oid = $"1.3.6.1.4.1.9.{i}", metric = $"m{i}" }).ToArray();

        var response = await Admin.SendJsonAsync(HttpMethod.Post, "poll_profiles", new { name = "huge", tables = new[] { new { columns } } });

        response.AssertProblem(HttpStatusCode.BadRequest, "tables");
        Assert.Contains("256", response.String("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exactly_256_objects_are_accepted()
    {
        var columns = Enumerable.Range(1, 255).Select(i => new { oid = $"1.3.6.1.4.1.9.{i}", metric = $"m{i}" }).ToArray();
        var lookups = new[] { new { oid = "1.3.6.1.2.1.31.1.1.1.1", label = "interface" } };

        var created = await Admin.CreateAsync("poll_profiles", new { name = "full", tables = new[] { new { columns, lookups } } });

        Assert.Equal(255, created.GetProperty("tables")[0].GetProperty("columns").GetArrayLength());
    }

    [Fact]
    public async Task A_body_over_64_KiB_is_413()
    {
        var body = new StringBuilder("""{"name":"padded","scalars":[{"oid":"1.3.6.1","metric":"up"}],"tables":[""");
        body.Append(string.Join(',', Enumerable.Repeat("""{"columns":[{"oid":"1.3.6.1.2.1.2.2.1.10","metric":"x"}]}""", 1400)));
        body.Append("]}");
        Assert.True(Encoding.UTF8.GetByteCount(body.ToString()) > 64 * 1024);

        var response = await Admin.SendRawAsync(HttpMethod.Post, "poll_profiles", body.ToString());

        response.AssertProblem((HttpStatusCode)413);
    }

    [Fact]
    public async Task Readers_read_and_only_admins_write()
    {
        var id = (await Admin.CreateAsync("poll_profiles", Ups("roles"))).GetProperty("id").GetInt64();
        using var reader = fixture.Client(await fixture.CreateKeyAsync("reader"));
        using var operatorClient = fixture.Client(await fixture.CreateKeyAsync("operator"));

        (await reader.GetJsonAsync($"poll_profiles/{id}")).AssertStatus(HttpStatusCode.OK);
        (await reader.GetJsonAsync("poll_profiles")).AssertStatus(HttpStatusCode.OK);
        (await operatorClient.SendJsonAsync(HttpMethod.Post, "poll_profiles", Ups("by-operator"))).AssertProblem(HttpStatusCode.Forbidden);
        (await operatorClient.SendJsonAsync(HttpMethod.Delete, $"poll_profiles/{id}")).AssertProblem(HttpStatusCode.Forbidden);
    }
}
