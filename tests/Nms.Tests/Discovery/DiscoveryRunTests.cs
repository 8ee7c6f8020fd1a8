using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Nms.Core.Configuration;
using Nms.Core.Discovery;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Discovery;

/// <summary>
/// The seed's flow 1 end to end: the API starts a run, batches go through the real discovery queue
/// on Azurite, the snmp plugin probes a real snmpd, devices land in PostgreSQL.
/// </summary>
public sealed class DiscoveryRunTests(DiscoveryRunTests.Fixture fixture) : IClassFixture<DiscoveryRunTests.Fixture>
{
    private const string Community = "disc-run-community";

    // Agents: 127.77.1.5-14 (the /24), 127.77.2.100-105 (overlap), 127.77.4.10-14 (twice), 127.77.5.3-4 (API). Each test its own range.
    private static readonly string[] Responders = Enumerable.Range(5, 10).Select(i => $"127.77.1.{i}").ToArray();
    private static readonly string[] OverlapResponders = Enumerable.Range(100, 6).Select(i => $"127.77.2.{i}").ToArray();
    private static readonly string[] TwiceResponders = Enumerable.Range(10, 5).Select(i => $"127.77.4.{i}").ToArray();
    private static readonly string[] ApiResponders = ["127.77.5.3", "127.77.5.4"];

    private DiscoveryHost host => fixture.Host;
    private SnmpAgents agents => fixture.Agents;
    private long credentialId => fixture.CredentialId;

    /// <summary>One app, one snmpd and one credential for the whole class; each test uses its own addresses.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        private readonly FakePlugins plugins = new();

        public DiscoveryHost Host { get; private set; } = null!;

        public SnmpAgents Agents { get; private set; } = null!;

        public long CredentialId { get; private set; }

        public async Task InitializeAsync()
        {
            plugins.AddReal("snmp");
            Agents = new SnmpAgents([.. Responders, .. OverlapResponders, .. TwiceResponders, .. ApiResponders], Community);
            try
            {
                Host = await DiscoveryHost.StartAsync(plugins.Directory, new Dictionary<string, string?>
                {
                    ["Nms__Discovery__FailureSampleSize"] = "7",
                });
                CredentialId = await Host.InsertSnmpCredentialAsync("disc-run-public", Community);
            }
            catch
            {
                // xunit does not dispose a fixture whose initialisation failed: never leave snmpd behind.
                await DisposeAsync();
                throw;
            }
        }

        public async Task DisposeAsync()
        {
            try
            {
                if (Host is not null)
                {
                    await Host.DisposeAsync();
                }
            }
            finally
            {
                Agents?.Dispose();
                plugins.Dispose();
            }
        }
    }

    [Fact]
    public async Task Slash_24_with_ten_agents_provisions_ten_and_fails_244_then_completes()
    {
        var wrongFirst = await host.InsertSnmpCredentialAsync("disc-run-wrong", "not-the-community");
        var profile = await host.InsertProfileAsync("lan-24", "127.77.1.0/24", agents.Port, [wrongFirst, credentialId], pollIntervalSeconds: 300);
        var started = DateTimeOffset.UtcNow;

        var runId = await host.StartRunOkAsync(profile);
        var run = await host.WaitForCompletionAsync(runId);

        Assert.Equal(254, run.Targets);
        Assert.Equal(8, run.BatchesTotal);
        Assert.Equal(8, run.BatchesDone);
        Assert.Equal(10, run.Responded);
        Assert.Equal(10, run.Provisioned);
        Assert.Equal(0, run.AlreadyKnown);
        Assert.Equal(244, run.Failed);
        Assert.NotNull(run.StartedAt);
        Assert.NotNull(run.FinishedAt);
        Assert.True(run.FinishedAt >= run.StartedAt);
        // Bounded: 244 failures, 7 samples, each naming an address that has no agent.
        Assert.Equal(7, run.FailureSamples.Count);
        Assert.All(run.FailureSamples, s => Assert.DoesNotContain(s.Ip, Responders));
        Assert.All(run.FailureSamples, s => Assert.False(string.IsNullOrWhiteSpace(s.Error)));

        var devices = await host.DevicesInAsync("127.77.1.0/24");
        Assert.Equal(Responders, devices.Select(d => d.Ip));
        Assert.All(devices, d =>
        {
            Assert.Equal(agents.Port, d.Port);
            Assert.Equal("nms-disc-agent", d.Hostname);
            Assert.Equal("NMS discovery test agent", d.Description);
            Assert.Equal("snmp", d.Plugin);
            // The credential that worked, not the first one tried.
            Assert.Equal(credentialId, d.CredentialId);
            Assert.Equal(profile, d.DiscoveryProfileId);
            Assert.Equal(300, d.PollIntervalSeconds);
            Assert.Equal("active", d.Status);
            // First poll spread over [now, now + interval), not all at once.
            Assert.NotNull(d.NextDueAt);
            Assert.InRange(d.NextDueAt!.Value, d.CreatedAt, d.CreatedAt.AddSeconds(300));
        });
        Assert.True(devices.Select(d => d.NextDueAt).Distinct().Count() > 1, "every first due time is the same");
        Assert.InRange(run.CreatedAt, started.AddMinutes(-1), DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Same_profile_run_twice_counts_the_second_as_already_known_and_changes_no_device()
    {
        var profile = await host.InsertProfileAsync("twice", "127.77.4.1-20", agents.Port, [credentialId]);
        var first = await host.WaitForCompletionAsync(await host.StartRunOkAsync(profile));
        var before = await host.DevicesInAsync("127.77.4.0/24");
        // A device an operator deactivated stays deactivated: discovery does not reactivate or reset it.
        var operatorsChoice = await host.ScalarAsync<long>("SELECT id FROM devices WHERE ip = '127.77.4.10'::inet");
        await host.Db.DeactivateByOperatorAsync(operatorsChoice);
        await host.ExecuteAsync("UPDATE devices SET hostname = 'renamed' WHERE id = $1", operatorsChoice);

        var second = await host.WaitForCompletionAsync(await host.StartRunOkAsync(profile));

        Assert.Equal(5, first.Provisioned);
        Assert.Equal(0, first.AlreadyKnown);
        Assert.Equal(0, second.Provisioned);
        Assert.Equal(5, second.AlreadyKnown);
        Assert.Equal(5, second.Responded);
        Assert.Equal(15, second.Failed);
        var after = await host.DevicesInAsync("127.77.4.0/24");
        Assert.Equal(TwiceResponders, after.Select(d => d.Ip));
        Assert.Equal(before.Select(d => d.Id), after.Select(d => d.Id));
        var deactivated = after.Single(d => d.Ip == "127.77.4.10");
        Assert.Equal("inactive", deactivated.Status);
        Assert.Equal("renamed", deactivated.Hostname);
        Assert.Null(deactivated.NextDueAt);
    }

    [Fact]
    public async Task Overlapping_profiles_run_at_once_create_each_device_once()
    {
        // Two runs ask the one snmpd at once: on a loaded machine 300 ms can miss a reply (the silent
        // addresses answer with port unreachable at once, so a longer timeout costs nothing).
        var a = await host.InsertProfileAsync("overlap-a", "127.77.2.0/24", agents.Port, [credentialId], timeoutMs: 3_000);
        var b = await host.InsertProfileAsync("overlap-b", "127.77.2.50-127.77.2.200,127.77.2.100-105", agents.Port, [credentialId], timeoutMs: 3_000);

        var runs = await Task.WhenAll(host.StartRunOkAsync(a), host.StartRunOkAsync(b));
        var done = await Task.WhenAll(runs.Select(id => host.WaitForCompletionAsync(id)));

        var devices = await host.DevicesInAsync("127.77.2.0/24");
        Assert.Equal(OverlapResponders, devices.Select(d => d.Ip));
        // Every responder was found by both runs; exactly one of them created each device.
        Assert.All(done, run => Assert.Equal(6, run.Responded));
        Assert.Equal(6, done.Sum(r => r.Provisioned));
        Assert.Equal(6, done.Sum(r => r.AlreadyKnown));
        Assert.Equal(254 - 6, done[0].Failed);
        Assert.Equal(151 - 6, done[1].Failed);
        Assert.All(devices, d => Assert.Contains(d.DiscoveryProfileId!.Value, new[] { a, b }));
        Assert.Equal(6, await host.ScalarAsync<long>("SELECT count(*) FROM poll_schedule s JOIN devices d ON d.id = s.device_id WHERE d.ip << '127.77.2.0/24'::inet"));
    }

    [Fact]
    public async Task Profiles_made_through_the_entity_api_run_and_their_devices_read_back_through_it()
    {
        using var credential = await host.Client.PostAsJsonAsync("credential_profiles",
            new { name = "api-flow", protocol = "snmp_v2c", community = Community });
        Assert.Equal(HttpStatusCode.Created, credential.StatusCode);
        var credentialId = JsonDocument.Parse(await credential.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();
        using var profile = await host.Client.PostAsJsonAsync("discovery_profiles", new
        {
            name = "api-flow",
            target = "127.77.5.0/29",
            port = agents.Port,
            plugin = "snmp",
            credential_profile_ids = new[] { credentialId },
            timeout_ms = 300,
        });
        Assert.Equal(HttpStatusCode.Created, profile.StatusCode);
        var profileId = JsonDocument.Parse(await profile.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();

        var run = await host.WaitForCompletionAsync(await host.StartRunOkAsync(profileId));

        Assert.Equal((6, 2, 4), (run.Targets, run.Provisioned, run.Failed));
        var devices = await host.DevicesInAsync("127.77.5.0/24");
        Assert.Equal(ApiResponders, devices.Select(d => d.Ip));
        foreach (var device in devices)
        {
            using var read = await host.Client.GetAsync($"devices/{device.Id}");
            var body = JsonDocument.Parse(await read.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            Assert.Contains(body.GetProperty("ip").GetString(), ApiResponders);
            Assert.Equal("nms-disc-agent", body.GetProperty("hostname").GetString());
            Assert.Equal(credentialId, body.GetProperty("credential_profile_id").GetInt64());
            Assert.Equal(profileId, body.GetProperty("discovery_profile_id").GetInt64());
        }
    }

    [Fact]
    public async Task Runs_of_a_profile_are_listed_newest_first_and_readable_by_id()
    {
        var profile = await host.InsertProfileAsync("listed", "127.77.3.1-3", agents.Port, [credentialId]);
        var first = await host.StartRunOkAsync(profile);
        await host.WaitForCompletionAsync(first);
        var second = await host.StartRunOkAsync(profile);
        await host.WaitForCompletionAsync(second);

        using var response = await host.Client.GetAsync($"discovery_profiles/{profile}/runs");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(body);
        var items = json.RootElement.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([second.ToString(), first.ToString()], items.Select(i => i.GetProperty("id").GetString()));
        Assert.All(items, i =>
        {
            Assert.Equal("completed", i.GetProperty("status").GetString());
            Assert.Equal(3, i.GetProperty("targets").GetInt32());
            Assert.Equal(3, i.GetProperty("failed").GetInt32());
            Assert.True(i.TryGetProperty("already_known", out _));
            Assert.True(i.TryGetProperty("finished_at", out _));
        });
    }

    [Fact]
    public async Task Unknown_run_and_unknown_profile_runs_are_404()
    {
        using var run = await host.Client.GetAsync($"discovery_runs/{Guid.NewGuid()}");
        using var runs = await host.Client.GetAsync("discovery_profiles/987654/runs");

        Assert.Equal(HttpStatusCode.NotFound, run.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, runs.StatusCode);
        Assert.Equal("application/problem+json", run.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Starting_a_run_needs_an_api_key()
    {
        var profile = await host.InsertProfileAsync("anonymous", "127.77.3.10", agents.Port, [credentialId]);
        using var response = await host.Anonymous.PostAsync($"discovery_profiles/{profile}/run", null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0L, await host.ScalarAsync<long>("SELECT count(*) FROM discovery_runs WHERE discovery_profile_id = $1", profile));
    }

    [Fact]
    public async Task Run_view_round_trips_as_snake_case()
    {
        var profile = await host.InsertProfileAsync("shape", "127.77.3.20", agents.Port, [credentialId]);
        var runId = await host.StartRunOkAsync(profile);
        await host.WaitForCompletionAsync(runId);

        var raw = await host.Client.GetStringAsync($"discovery_runs/{runId}");
        var run = JsonSerializer.Deserialize<DiscoveryRunView>(raw, NmsJson.Api)!;

        Assert.Contains("\"discovery_profile_id\"", raw);
        Assert.Contains("\"failure_samples\":[{\"ip\":\"127.77.3.20\"", raw);
        Assert.Equal(profile, run.DiscoveryProfileId);
        Assert.Equal(1, run.Failed);
    }
}
