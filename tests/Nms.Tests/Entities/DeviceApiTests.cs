using System.Net;
using System.Text.Json;
using Nms.Core.Devices;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Entities;

public sealed class DeviceApiTests(EntityApp fixture) : IClassFixture<EntityApp>
{
    private HttpClient Admin => fixture.Admin;

    private static int next;

    /// <summary>A loopback address no other test in this class uses.</summary>
    private static string NextIp()
    {
        var n = Interlocked.Increment(ref next);
        return $"127.1.{n / 250}.{(n % 250) + 1}";
    }

    private Task<DateTime?> NextDueAsync(long deviceId) =>
        fixture.App.Database.ScalarAsync<DateTime?>("SELECT next_due_at FROM poll_schedule WHERE device_id = $1", deviceId);

    [Fact]
    public async Task Created_device_is_active_and_due_within_its_interval()
    {
        var before = DateTime.UtcNow;
        var device = await Admin.CreateAsync("devices", new { ip = NextIp(), port = 161, plugin = "snmp", hostname = "core-sw1", poll_interval_seconds = 120 });

        Assert.Equal("active", device.GetProperty("status").GetString());
        Assert.Equal(0, device.GetProperty("failure_count").GetInt32());
        var due = await NextDueAsync(device.GetProperty("id").GetInt64());
        Assert.NotNull(due);
        Assert.InRange(due!.Value, before.AddSeconds(-1), DateTime.UtcNow.AddSeconds(121));
        Assert.Equal(due.Value, device.GetProperty("next_poll_at").GetDateTime().ToUniversalTime(), TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task Devices_created_together_are_spread_over_their_interval()
    {
        var dues = new List<DateTime>();
        for (var i = 0; i < 12; i++)
        {
            var device = await Admin.CreateAsync("devices", new { ip = NextIp(), port = 161, plugin = "snmp", poll_interval_seconds = 3600 });
            dues.Add((await NextDueAsync(device.GetProperty("id").GetInt64()))!.Value);
        }

        // Twelve uniform draws over an hour all within one minute of each other: about 1e-17.
        Assert.True(dues.Max() - dues.Min() > TimeSpan.FromMinutes(1), $"not spread: {string.Join(", ", dues)}");
    }

    [Fact]
    public async Task Ipv6_device_is_accepted_and_returned_canonical()
    {
        var device = await Admin.CreateAsync("devices", new { ip = "::FFFF:127.9.9.9", port = 22, plugin = "ssh" });
        var v6 = await Admin.CreateAsync("devices", new { ip = "0:0:0:0:0:0:0:1", port = 2222, plugin = "ssh" });

        Assert.Equal("127.9.9.9", device.GetProperty("ip").GetString());
        Assert.Equal("::1", v6.GetProperty("ip").GetString());
    }

    [Fact]
    public async Task Second_device_on_the_same_ip_and_port_is_409_with_the_existing_id()
    {
        var ip = NextIp();
        var first = await Admin.CreateAsync("devices", new { ip, port = 161, plugin = "snmp" });

        var second = await Admin.SendJsonAsync(HttpMethod.Post, "devices", new { ip, port = 161, plugin = "ssh" });
        var otherPort = await Admin.SendJsonAsync(HttpMethod.Post, "devices", new { ip, port = 162, plugin = "snmp" });

        second.AssertProblem(HttpStatusCode.Conflict);
        Assert.Equal(first.GetProperty("id").GetInt64(), second.Long("device_id"));
        otherPort.AssertStatus(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Concurrent_creation_of_the_same_device_gives_one_201_and_the_rest_409()
    {
        var ip = NextIp();
        using var gate = new SemaphoreSlim(0);
        var attempts = Enumerable.Range(0, 12).Select(async _ =>
        {
            await gate.WaitAsync();
            return await Admin.SendJsonAsync(HttpMethod.Post, "devices", new { ip, port = 161, plugin = "snmp" });
        }).ToList();
        gate.Release(attempts.Count);

        var responses = await Task.WhenAll(attempts);

        Assert.Single(responses, r => r.Status == HttpStatusCode.Created);
        Assert.All(responses.Where(r => r.Status != HttpStatusCode.Created), r => r.AssertProblem(HttpStatusCode.Conflict));
        Assert.Equal(1L, await fixture.App.Database.ScalarAsync<long>("SELECT count(*) FROM devices WHERE ip = $1::inet", ip));
        Assert.Equal(1L, await fixture.App.Database.ScalarAsync<long>("SELECT count(*) FROM poll_schedule s JOIN devices d ON d.id = s.device_id WHERE d.ip = $1::inet", ip));
    }

    [Fact]
    public async Task Deactivation_by_hand_removes_the_schedule_row_and_reactivation_resets_failures()
    {
        var device = await Admin.CreateAsync("devices", new { ip = NextIp(), port = 161, plugin = "snmp", poll_interval_seconds = 30 });
        var id = device.GetProperty("id").GetInt64();

        var deactivated = await Admin.SendJsonAsync(HttpMethod.Patch, $"devices/{id}", new { status = "inactive", deactivation_reason = "maintenance" });

        deactivated.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("inactive", deactivated.String("status"));
        Assert.Equal("maintenance", deactivated.String("deactivation_reason"));
        Assert.True(deactivated.Json.TryGetProperty("deactivated_at", out _));
        Assert.False(deactivated.Json.TryGetProperty("next_poll_at", out _));
        Assert.Null(await NextDueAsync(id));

        // As the health monitor would leave it: back, three failures counted, deactivated for them.
        var db = fixture.App.Database.DataSource;
        await db.ReactivateByOperatorAsync(id, 60);
        await db.RecordFailureCountAsync(id, 3, DateTimeOffset.UtcNow, "poll", "timeout");
        await db.InTransactionAsync((connection, transaction) => DeviceLifecycle.DeactivateForFailuresAsync(
            connection, transaction, id, "poll", "timeout", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None));
        Assert.Equal("poll", (await Admin.GetJsonAsync($"devices/{id}")).String("deactivation_reason"));
        var before = DateTime.UtcNow;
        var reactivated = await Admin.SendJsonAsync(HttpMethod.Patch, $"devices/{id}", new { status = "active" });

        reactivated.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("active", reactivated.String("status"));
        Assert.Equal(0, reactivated.Json.GetProperty("failure_count").GetInt32());
        foreach (var cleared in new[] { "last_failure_at", "last_failure_reason", "last_failure_error", "deactivation_reason", "deactivation_error", "deactivated_at" })
        {
            Assert.False(reactivated.Json.TryGetProperty(cleared, out _), $"{cleared} not cleared");
        }

        var due = await NextDueAsync(id);
        Assert.NotNull(due);
        Assert.InRange(due!.Value, before.AddSeconds(-1), DateTime.UtcNow.AddSeconds(31));
    }

    [Fact]
    public async Task Deactivating_twice_keeps_the_first_reason_and_time()
    {
        var id = (await Admin.CreateAsync("devices", new { ip = NextIp(), port = 161, plugin = "snmp" })).GetProperty("id").GetInt64();
        var first = await Admin.SendJsonAsync(HttpMethod.Patch, $"devices/{id}", new { status = "inactive" });

        var second = await Admin.SendJsonAsync(HttpMethod.Patch, $"devices/{id}", new { status = "inactive", deactivation_reason = "again" });

        Assert.Equal("manual", second.String("deactivation_reason"));
        Assert.Equal(first.String("deactivated_at"), second.String("deactivated_at"));
    }

    [Fact]
    public async Task Shorter_interval_pulls_the_deadline_in_and_credential_changes()
    {
        var credential = (await Admin.CreateAsync("credential_profiles", new { name = "dev-cred", protocol = "snmp_v2c", community = "c" })).GetProperty("id").GetInt64();
        var id = (await Admin.CreateAsync("devices", new { ip = NextIp(), port = 161, plugin = "snmp", poll_interval_seconds = 86_400 })).GetProperty("id").GetInt64();
        await fixture.App.Database.DataSource.RescheduleAsync(id, DateTimeOffset.UtcNow.AddDays(1));

        var changed = await Admin.SendJsonAsync(HttpMethod.Patch, $"devices/{id}", new { poll_interval_seconds = 10, credential_profile_id = credential });

        changed.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(10, changed.Json.GetProperty("poll_interval_seconds").GetInt32());
        Assert.Equal(credential, changed.Long("credential_profile_id"));
        Assert.InRange((await NextDueAsync(id))!.Value, DateTime.UtcNow.AddSeconds(-5), DateTime.UtcNow.AddSeconds(11));
    }

    [Fact]
    public async Task Changing_an_inactive_device_does_not_schedule_it()
    {
        var id = (await Admin.CreateAsync("devices", new { ip = NextIp(), port = 161, plugin = "snmp" })).GetProperty("id").GetInt64();
        await Admin.SendJsonAsync(HttpMethod.Patch, $"devices/{id}", new { status = "inactive" });

        (await Admin.SendJsonAsync(HttpMethod.Patch, $"devices/{id}", new { poll_interval_seconds = 20 })).AssertStatus(HttpStatusCode.OK);

        Assert.Null(await NextDueAsync(id));
    }

    [Fact]
    public async Task Delete_removes_the_device_and_its_schedule_row()
    {
        var id = (await Admin.CreateAsync("devices", new { ip = NextIp(), port = 161, plugin = "snmp" })).GetProperty("id").GetInt64();

        (await Admin.SendJsonAsync(HttpMethod.Delete, $"devices/{id}")).AssertStatus(HttpStatusCode.NoContent);

        (await Admin.GetJsonAsync($"devices/{id}")).AssertProblem(HttpStatusCode.NotFound);
        (await Admin.SendJsonAsync(HttpMethod.Delete, $"devices/{id}")).AssertProblem(HttpStatusCode.NotFound);
        (await Admin.SendJsonAsync(HttpMethod.Patch, $"devices/{id}", new { status = "active" })).AssertProblem(HttpStatusCode.NotFound);
        Assert.Equal(0L, await fixture.App.Database.ScalarAsync<long>("SELECT count(*) FROM poll_schedule WHERE device_id = $1", id));
    }

    public static TheoryData<string, string> InvalidCreates => new()
    {
        { """{"port":161,"plugin":"snmp"}""", "ip" },
        { """{"ip":"127.0.0","port":161,"plugin":"snmp"}""", "ip" },
        { """{"ip":"not-an-ip","port":161,"plugin":"snmp"}""", "ip" },
        { """{"ip":"127.0.0.0/24","port":161,"plugin":"snmp"}""", "ip" },
        { """{"ip":"fe80::1%eth0","port":161,"plugin":"snmp"}""", "ip" },
        { """{"ip":127,"port":161,"plugin":"snmp"}""", "ip" },
        { """{"ip":"127.0.0.1","plugin":"snmp"}""", "port" },
        { """{"ip":"127.0.0.1","port":-1,"plugin":"snmp"}""", "port" },
        { """{"ip":"127.0.0.1","port":"161","plugin":"snmp"}""", "port" },
        { """{"ip":"127.0.0.1","port":99999999999,"plugin":"snmp"}""", "port" },
        { """{"ip":"127.0.0.1","port":161}""", "plugin" },
        { """{"ip":"127.0.0.1","port":161,"plugin":"../bin/sh"}""", "plugin" },
        { """{"ip":"127.0.0.1","port":161,"plugin":"snmp","poll_interval_seconds":9}""", "poll_interval_seconds" },
        { """{"ip":"127.0.0.1","port":161,"plugin":"snmp","poll_interval_seconds":86401}""", "poll_interval_seconds" },
        { """{"ip":"127.0.0.1","port":161,"plugin":"snmp","poll_interval_seconds":1.5}""", "poll_interval_seconds" },
        { """{"ip":"127.0.0.1","port":161,"plugin":"snmp","credential_profile_id":424242}""", "credential_profile_id" },
        { """{"ip":"127.0.0.1","port":161,"plugin":"snmp","hostname":"a\u0000b"}""", "hostname" },
        { """{"ip":"127.0.0.1","port":161,"plugin":"snmp","status":"active"}""", "status" },
        { """[1,2]""", "body" },
        { """{"ip":"127.0.0.1","port":161,""", "body" },
    };

    [Theory]
    [MemberData(nameof(InvalidCreates))]
    public async Task Invalid_create_is_400_naming_the_field(string body, string field)
    {
        var response = await Admin.SendRawAsync(HttpMethod.Post, "devices", body);

        response.AssertProblem(HttpStatusCode.BadRequest, field);
    }

    public static TheoryData<string, string> InvalidPatches => new()
    {
        { """{"status":"paused"}""", "status" },
        { """{"poll_interval_seconds":0}""", "poll_interval_seconds" },
        { """{"credential_profile_id":424242}""", "credential_profile_id" },
        { """{"deactivation_reason":"why"}""", "deactivation_reason" },
        { """{"status":"inactive","deactivation_reason":"ping"}""", "deactivation_reason" },
        { """{"status":"inactive","deactivation_reason":"POLL"}""", "deactivation_reason" },
        { """{"ip":"127.0.0.2"}""", "ip" },
    };

    [Theory]
    [MemberData(nameof(InvalidPatches))]
    public async Task Invalid_patch_is_400_naming_the_field(string body, string field)
    {
        var id = (await Admin.CreateAsync("devices", new { ip = NextIp(), port = 161, plugin = "snmp" })).GetProperty("id").GetInt64();

        var response = await Admin.SendRawAsync(HttpMethod.Patch, $"devices/{id}", body);

        response.AssertProblem(HttpStatusCode.BadRequest, field);
    }

    [Theory]
    [InlineData("status=paused", "status")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=501", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("cursor=bm9wZQ", "cursor")]
    [InlineData("cursor=***", "cursor")]
    [InlineData("limit=5&limit=6", "limit")]
    public async Task Invalid_list_query_is_400_naming_the_parameter(string query, string field)
    {
        (await Admin.GetJsonAsync($"devices?{query}")).AssertProblem(HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task List_filters_by_status_plugin_and_text()
    {
        await using var app = await fixture.StartAsync(null);
        using var client = fixture.Client(app.AdminKey, app);
        var router = await client.CreateAsync("devices", new { ip = "127.20.0.1", port = 161, plugin = "snmp", hostname = "Edge-Router_1" });
        var sw = await client.CreateAsync("devices", new { ip = "127.20.0.2", port = 161, plugin = "snmp", hostname = "access-switch" });
        var server = await client.CreateAsync("devices", new { ip = "127.21.0.1", port = 22, plugin = "ssh", hostname = "db-server" });
        await client.SendJsonAsync(HttpMethod.Patch, $"devices/{sw.GetProperty("id").GetInt64()}", new { status = "inactive" });

        async Task<IEnumerable<long>> Ids(string query) =>
            (await client.GetJsonAsync($"devices?{query}")).Json.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("id").GetInt64());

        long Id(JsonElement d) => d.GetProperty("id").GetInt64();
        Assert.Equal([Id(router), Id(server)], await Ids("status=active"));
        Assert.Equal([Id(sw)], await Ids("status=inactive"));
        Assert.Equal([Id(router), Id(sw)], await Ids("plugin=snmp"));
        Assert.Equal([Id(router)], await Ids("q=edge-router"));
        Assert.Equal([Id(router), Id(sw)], await Ids("q=127.20."));
        Assert.Equal([Id(server)], await Ids("q=127.21&plugin=ssh&status=active"));
        Assert.Empty(await Ids("q=%25"));
        Assert.Equal([Id(router)], await Ids("q=r_1"));
    }

    [Fact]
    public async Task Pages_are_stable_while_devices_are_inserted()
    {
        await using var app = await fixture.StartAsync(null);
        using var client = fixture.Client(app.AdminKey, app);
        var original = new List<long>();
        for (var i = 1; i <= 25; i++)
        {
            original.Add((await client.CreateAsync("devices", new { ip = $"127.30.0.{i}", port = 161, plugin = "snmp" })).GetProperty("id").GetInt64());
        }

        var seen = new List<long>();
        string? cursor = null;
        var page = 0;
        do
        {
            var response = await client.GetJsonAsync(cursor is null ? "devices?limit=7" : $"devices?limit=7&cursor={Uri.EscapeDataString(cursor)}");
            response.AssertStatus(HttpStatusCode.OK);
            seen.AddRange(response.Json.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("id").GetInt64()));
            cursor = response.Json.TryGetProperty("next_cursor", out var next) ? next.GetString() : null;

            // Inserts (and a delete of an unseen row) between pages: none may shift what is still to come.
            page++;
            await client.CreateAsync("devices", new { ip = $"127.31.0.{page}", port = 161, plugin = "snmp" });
            if (page == 1)
            {
                await client.SendJsonAsync(HttpMethod.Delete, $"devices/{original[^1]}");
                original.RemoveAt(original.Count - 1);
            }
        }
        while (cursor is not null);

        Assert.Equal(seen.Distinct().Count(), seen.Count);
        Assert.Equal(original, seen.Take(original.Count));
        Assert.Equal(seen.Order(), seen);
    }
}
