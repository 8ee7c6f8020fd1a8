using System.Net;
using Nms.Core.Entities;

namespace Nms.Tests.Entities;

/// <summary>Races the database decides: whatever the interleaving, a 4xx that says why, never a 500.</summary>
public sealed class ConcurrencyTests(EntityApp fixture) : IClassFixture<EntityApp>
{
    private HttpClient Admin => fixture.Admin;

    [Fact]
    public async Task Deleting_a_credential_while_a_device_takes_it_ends_in_exactly_one_of_them()
    {
        for (var round = 0; round < 10; round++)
        {
            var credential = (await Admin.CreateAsync("credential_profiles", new { name = $"race-{round}", protocol = "snmp_v2c", community = "c" })).GetProperty("id").GetInt64();
            using var gate = new SemaphoreSlim(0);
            var create = Task.Run(async () =>
            {
                await gate.WaitAsync();
                return await Admin.SendJsonAsync(HttpMethod.Post, "devices", new { ip = $"127.5.0.{round + 1}", port = 161, plugin = "snmp", credential_profile_id = credential });
            });
            var delete = Task.Run(async () =>
            {
                await gate.WaitAsync();
                return await Admin.SendJsonAsync(HttpMethod.Delete, $"credential_profiles/{credential}");
            });
            gate.Release(2);

            var (created, deleted) = (await create, await delete);

            if (created.Status == HttpStatusCode.Created)
            {
                deleted.AssertProblem(HttpStatusCode.Conflict);
                Assert.Equal([created.Long("id")], deleted.Json.GetProperty("device_ids").EnumerateArray().Select(e => e.GetInt64()));
            }
            else
            {
                created.AssertProblem(HttpStatusCode.BadRequest, "credential_profile_id");
                deleted.AssertStatus(HttpStatusCode.NoContent);
            }
        }
    }

    [Fact]
    public async Task Concurrent_profiles_with_one_name_give_one_201_and_the_rest_409()
    {
        var credential = (await Admin.CreateAsync("credential_profiles", new { name = "same-name-cred", protocol = "snmp_v2c", community = "c" })).GetProperty("id").GetInt64();
        using var gate = new SemaphoreSlim(0);
        var discovery = Enumerable.Range(0, 6).Select(async _ =>
        {
            await gate.WaitAsync();
            return await Admin.SendJsonAsync(HttpMethod.Post, "discovery_profiles", new { name = "same", target = "127.6.0.1", port = 161, plugin = "snmp", credential_profile_ids = new[] { credential } });
        }).ToList();
        var credentials = Enumerable.Range(0, 6).Select(async _ =>
        {
            await gate.WaitAsync();
            return await Admin.SendJsonAsync(HttpMethod.Post, "credential_profiles", new { name = "same", protocol = "snmp_v2c", community = "c" });
        }).ToList();
        gate.Release(12);

        foreach (var responses in new[] { await Task.WhenAll(discovery), await Task.WhenAll(credentials) })
        {
            Assert.Single(responses, r => r.Status == HttpStatusCode.Created);
            Assert.All(responses.Where(r => r.Status != HttpStatusCode.Created), r => r.AssertProblem(HttpStatusCode.Conflict, "name"));
        }
    }

    /// <summary>Errors are mapped by constraint name: a renamed constraint would silently turn a 409 into a 500.</summary>
    [Fact]
    public async Task The_constraints_mapped_to_4xx_exist_under_those_names()
    {
        foreach (var name in new[] { Constraints.CredentialName, Constraints.DiscoveryName, Constraints.DeviceIpPort, Constraints.DeviceCredential, Constraints.DiscoveryCredential })
        {
            Assert.Equal(1L, await fixture.App.Database.ScalarAsync<long>("SELECT count(*) FROM pg_constraint WHERE conname = $1", name));
        }
    }
}
