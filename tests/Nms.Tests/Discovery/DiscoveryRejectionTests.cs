using System.Net;
using System.Text.Json;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Discovery;

/// <summary>A run that cannot be started is a clear 4xx, and no run row and no queue message exist afterwards.</summary>
public sealed class DiscoveryRejectionTests(DiscoveryRejectionTests.Fixture fixture) : IClassFixture<DiscoveryRejectionTests.Fixture>
{
    private DiscoveryHost Host => fixture.Host;

    public sealed class Fixture : IAsyncLifetime
    {
        private readonly FakePlugins plugins = new();

        public DiscoveryHost Host { get; private set; } = null!;

        public long CredentialId { get; private set; }

        public async Task InitializeAsync()
        {
            plugins.Add("snmp", "cat >/dev/null; echo '{\"contract_version\":1,\"results\":[]}'");
            Host = await DiscoveryHost.StartAsync(plugins.Directory, new Dictionary<string, string?>
            {
                ["Nms__Discovery__MaxAddressesPerRun"] = "1000",
            });
            CredentialId = await Host.InsertSnmpCredentialAsync("reject-public", "public");
        }

        public async Task DisposeAsync()
        {
            await Host.DisposeAsync();
            plugins.Dispose();
        }
    }

    private async Task<(HttpStatusCode Status, JsonElement Problem)> StartAsync(long profileId)
    {
        using var response = await Host.StartRunAsync(profileId);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (response.StatusCode, JsonDocument.Parse(body).RootElement.Clone());
    }

    private async Task AssertNoRunAsync(long profileId) =>
        Assert.Equal(0L, await Host.ScalarAsync<long>("SELECT count(*) FROM discovery_runs WHERE discovery_profile_id = $1", profileId));

    [Theory]
    [InlineData("127.88.0.300")]
    [InlineData("127.88.0.0/33")]
    [InlineData("127.88.0.9-127.88.0.1")]
    [InlineData("not-an-address")]
    [InlineData("127.88.0.1,,bad")]
    public async Task Malformed_target_is_a_400_naming_target_and_creates_no_run(string target)
    {
        var profile = await Host.InsertProfileAsync("malformed-" + Guid.NewGuid().ToString("N")[..8], target, 161, [fixture.CredentialId]);

        var (status, problem) = await StartAsync(profile);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("target", problem.GetProperty("field").GetString());
        await AssertNoRunAsync(profile);
    }

    [Fact]
    public async Task Ipv6_slash_64_target_is_a_400_saying_why_it_cannot_be_swept()
    {
        var profile = await Host.InsertProfileAsync("ipv6", "2001:db8::/64", 161, [fixture.CredentialId]);

        var (status, problem) = await StartAsync(profile);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("cannot be swept", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertNoRunAsync(profile);
    }

    [Fact]
    public async Task Target_over_the_cap_is_a_400_with_the_counts_and_creates_no_run()
    {
        // Cap is 1,000 here: a /22 is 1,022 hosts.
        var profile = await Host.InsertProfileAsync("over-cap", "127.88.4.0/22", 161, [fixture.CredentialId]);

        var (status, problem) = await StartAsync(profile);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(1022, problem.GetProperty("address_count").GetInt64());
        Assert.Equal(1000, problem.GetProperty("max_addresses").GetInt64());
        await AssertNoRunAsync(profile);
    }

    [Fact]
    public async Task Unknown_profile_is_a_404()
    {
        var (status, _) = await StartAsync(9_999_999);

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal(0L, await Host.ScalarAsync<long>("SELECT count(*) FROM discovery_runs WHERE discovery_profile_id = 9999999"));
    }

    [Fact]
    public async Task Profile_whose_credentials_were_deleted_is_a_409_and_creates_no_run()
    {
        var credential = await Host.InsertSnmpCredentialAsync("deleted-soon", "public");
        var profile = await Host.InsertProfileAsync("orphaned", "127.88.1.0/24", 161, [credential]);
        await Host.ExecuteAsync("DELETE FROM discovery_profile_credentials WHERE discovery_profile_id = $1", profile);
        await Host.ExecuteAsync("DELETE FROM credential_profiles WHERE id = $1", credential);

        var (status, problem) = await StartAsync(profile);

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("no credentials", problem.GetProperty("detail").GetString());
        await AssertNoRunAsync(profile);
    }

    [Fact]
    public async Task Profile_naming_a_plugin_that_is_not_installed_is_a_409()
    {
        var profile = await Host.InsertProfileAsync("no-plugin", "127.88.2.1", 161, [fixture.CredentialId], plugin: "nosuchplugin");

        var (status, problem) = await StartAsync(profile);

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("nosuchplugin", problem.GetProperty("detail").GetString());
        await AssertNoRunAsync(profile);
    }

    [Fact]
    public async Task Exactly_the_cap_is_accepted()
    {
        // 127.88.8.1 - 127.88.11.232 is exactly 1,000 addresses.
        var profile = await Host.InsertProfileAsync("at-cap", "127.88.8.1-127.88.11.232", 161, [fixture.CredentialId]);

        var runId = await Host.StartRunOkAsync(profile);
        var run = await Host.GetRunAsync(runId);

        Assert.Equal(1000, run.Targets);
        Assert.Equal(32, run.BatchesTotal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("201")]
    [InlineData("abc")]
    public async Task Listing_runs_with_a_bad_limit_is_a_400(string limit)
    {
        var profile = await Host.InsertProfileAsync("limit-" + limit, "127.88.3.1", 161, [fixture.CredentialId]);

        using var response = await Host.Client.GetAsync($"discovery_profiles/{profile}/runs?limit={limit}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
