using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Nms.Core.Credentials;
using Nms.Core.Entities;
using Nms.Tests.Entities;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Credentials;

public sealed class SecretHandlingTests(EntityApp fixture) : IClassFixture<EntityApp>
{
    /// <summary>Every secret field of every protocol, created, read, listed, replaced and refused; none may come back or be logged.</summary>
    [Fact]
    public async Task No_secret_appears_in_any_response_or_log()
    {
        var secrets = Enumerable.Range(0, 8).Select(i => $"S3CRET-{i}-{Convert.ToHexString(RandomNumberGenerator.GetBytes(8))}").ToArray();
        var admin = fixture.Admin;
        var v2c = await admin.CreateAsync("credential_profiles", new { name = "s-v2c", protocol = "snmp_v2c", community = secrets[0] });
        var v3 = await admin.CreateAsync("credential_profiles", new { name = "s-v3", protocol = "snmp_v3", user = "u", auth_protocol = "sha1", auth_key = secrets[1], priv_protocol = "aes128", priv_key = secrets[2] });
        var ssh = await admin.CreateAsync("credential_profiles", new { name = "s-ssh", protocol = "ssh", user = "u", private_key = secrets[3], private_key_passphrase = secrets[4] });
        await admin.SendJsonAsync(HttpMethod.Put, $"credential_profiles/{ssh.GetProperty("id").GetInt64()}", new { name = "s-ssh", protocol = "ssh", user = "u", password = secrets[5] });
        // Refused bodies that carry secrets: a validation error must not echo them.
        await admin.SendJsonAsync(HttpMethod.Post, "credential_profiles", new { name = "s-bad", protocol = "snmp_v2c", community = secrets[6], password = secrets[6] });
        await admin.SendJsonAsync(HttpMethod.Post, "credential_profiles", new { name = "s-v2c", protocol = "snmp_v2c", community = secrets[7] });
        await admin.SendRawAsync(HttpMethod.Post, "credential_profiles", $$"""{"name":"s-bad2","protocol":"snmp_v3","user":"u","auth_protocol":"sha1","auth_key":"{{secrets[7]}}","surprise":1}""");
        await admin.CreateAsync("devices", new { ip = "127.4.0.1", port = 161, plugin = "snmp", credential_profile_id = v2c.GetProperty("id").GetInt64() });
        await admin.CreateAsync("discovery_profiles", new { name = "s-disc", target = "127.4.0.0/30", port = 161, plugin = "snmp", credential_profile_ids = new[] { v3.GetProperty("id").GetInt64(), ssh.GetProperty("id").GetInt64() } });
        await admin.GetJsonAsync("credential_profiles");
        await admin.GetJsonAsync($"credential_profiles/{v3.GetProperty("id").GetInt64()}");
        await admin.GetJsonAsync("devices");
        await admin.GetJsonAsync("discovery_profiles");
        await admin.SendJsonAsync(HttpMethod.Delete, $"credential_profiles/{v2c.GetProperty("id").GetInt64()}");

        var bodies = string.Join('\n', fixture.ResponseBodies);
        var logs = fixture.App.Logs.All;
        Assert.Contains("s-v3", bodies, StringComparison.Ordinal);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, bodies, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, logs, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(fixture.App.AdminKey, logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rows_sealed_under_a_rotated_out_key_still_open_and_reseal_moves_them()
    {
        var oldKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var newKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        await using var database = await TestDatabase.CreateAsync();
        long oldId;
        await using (var before = await fixture.StartAsync(o =>
        {
            o.Database = database;
            o.Settings["Nms:Crypto:ActiveKeyId"] = "k-2025";
            o.Settings["Nms:Crypto:Keys:k-2025"] = oldKey;
        }))
        {
            using var client = fixture.Client(before.AdminKey, before);
            // Sealed under a key nobody has any more: unreadable, but it must not stop the others being re-sealed.
            await database.ExecuteAsync("INSERT INTO credential_profiles (name, protocol, secret_ciphertext, secret_key_id, created_at, updated_at) VALUES ('orphan', 'snmp_v2c', '\\x00', 'k-removed', now(), now())");
            oldId = (await client.CreateAsync("credential_profiles", new { name = "old", protocol = "snmp_v2c", community = "sealed-under-old" })).GetProperty("id").GetInt64();
        }

        await using var after = await fixture.StartAsync(o =>
        {
            o.Database = database;
            o.Settings["Nms:Crypto:ActiveKeyId"] = "k-2026";
            o.Settings["Nms:Crypto:Keys:k-2025"] = oldKey;
            o.Settings["Nms:Crypto:Keys:k-2026"] = newKey;
        });
        using var admin = fixture.Client(after.AdminKey, after);
        var newId = (await admin.CreateAsync("credential_profiles", new { name = "new", protocol = "snmp_v2c", community = "sealed-under-new" })).GetProperty("id").GetInt64();
        var reader = after.Services.GetRequiredService<CredentialReader>();

        var opened = await reader.ReadAsync([oldId, newId], CancellationToken.None);

        Assert.Equal("sealed-under-old", opened[oldId].Community);
        Assert.Equal("sealed-under-new", opened[newId].Community);
        Assert.Equal("k-2025", (await admin.GetJsonAsync($"credential_profiles/{oldId}")).String("secret_key_id"));
        Assert.Equal("k-2026", (await admin.GetJsonAsync($"credential_profiles/{newId}")).String("secret_key_id"));

        Assert.Equal(1, await after.Services.GetRequiredService<CredentialProfileService>().ResealAsync(100, CancellationToken.None));
        Assert.Equal("k-2026", await database.ScalarAsync<string>("SELECT secret_key_id FROM credential_profiles WHERE id = $1", oldId));
        Assert.Equal("k-removed", await database.ScalarAsync<string>("SELECT secret_key_id FROM credential_profiles WHERE name = 'orphan'"));
        Assert.Equal("sealed-under-old", (await reader.ReadAsync([oldId], CancellationToken.None))[oldId].Community);
    }

    [Fact]
    public async Task The_maintenance_timer_reseals_rows_under_the_active_key()
    {
        var oldKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        await using var database = await TestDatabase.CreateAsync();
        await using (var before = await fixture.StartAsync(o =>
        {
            o.Database = database;
            o.Settings["Nms:Crypto:ActiveKeyId"] = "k-old";
            o.Settings["Nms:Crypto:Keys:k-old"] = oldKey;
        }))
        {
            using var client = fixture.Client(before.AdminKey, before);
            await client.CreateAsync("credential_profiles", new { name = "a", protocol = "snmp_v2c", community = "ca" });
            await client.CreateAsync("credential_profiles", new { name = "b", protocol = "ssh", user = "u", password = "pb" });
        }

        await using var after = await fixture.StartAsync(o =>
        {
            o.Database = database;
            o.Settings["Nms:Crypto:ActiveKeyId"] = "k-new";
            o.Settings["Nms:Crypto:Keys:k-old"] = oldKey;
            o.Settings["Nms:Crypto:Keys:k-new"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            o.Settings["NmsMaintenanceSchedule"] = "* * * * * *";
            o.EnabledTimers.Add("ResealCredentials");
        });

        await TestApp.EventuallyAsync(
            async () => await database.ScalarAsync<long>("SELECT count(*) FROM credential_profiles WHERE secret_key_id <> 'k-new'") == 0,
            "every profile re-sealed under k-new", TimeSpan.FromSeconds(15));
        var ids = await database.ScalarAsync<long[]>("SELECT array_agg(id ORDER BY id) FROM credential_profiles");
        var opened = await after.Services.GetRequiredService<CredentialReader>().ReadAsync(ids, CancellationToken.None);
        Assert.Equal("ca", opened[ids[0]].Community);
        Assert.Equal("pb", opened[ids[1]].Password);
    }

    [Fact]
    public void Sealing_round_trips_and_detects_tampering()
    {
        var sealer = fixture.App.Services.GetRequiredService<SecretSealer>();
        var plaintext = "round-trip"u8.ToArray();

        var sealedSecret = sealer.Seal(plaintext);
        var again = sealer.Seal(plaintext);

        Assert.Equal(plaintext, sealer.Open(sealedSecret));
        Assert.NotEqual(sealedSecret.Ciphertext, again.Ciphertext);
        sealedSecret.Ciphertext[^1] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => sealer.Open(sealedSecret));
    }
}
