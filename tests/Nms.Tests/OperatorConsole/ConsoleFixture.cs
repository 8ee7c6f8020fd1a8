using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Nms.Testing;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.OperatorConsole;

/// <summary>
/// One app on the local host (real PostgreSQL, Azurite, the published snmp plugin, the scheduler
/// polling every second), real snmpd agents on part of a loopback /28, one key per role, and one
/// headless Chromium, shared by the console's browser tests.
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    /// <summary>What one agent reports as sysName: markup, which the console must show as text.</summary>
    public const string HostileSysName = "<img src=x onerror=alert(1)>";

    public const string Community = "public";

    /// <summary>Host number (relative to <see cref="Base"/>) of the agent the stop test kills: outside the /28 discovery scans.</summary>
    public const int DoomedHost = 17;

    private readonly List<SnmpdProcess> agents = [];

    /// <summary>The /28's first three octets and its base, e.g. 127.203.17 and 32 (hosts .33-.46).</summary>
    public string Prefix { get; } = $"127.{Random.Shared.Next(100, 250)}.{Random.Shared.Next(1, 250)}";

    public int Base { get; } = 16 * Random.Shared.Next(1, 13);

    public string Subnet => $"{Prefix}.{Base}/28";

    public string Host(int n) => $"{Prefix}.{Base + n}";

    public int AgentPort { get; } = FreePort.Udp();

    /// <summary>Agents answering on hosts 1-3 of the /28 (host 2 is the hostile one), and one just outside it for the stop test.</summary>
    public IReadOnlyDictionary<int, string> AgentNames { get; } = new Dictionary<int, string>
    {
        [1] = "core-sw-1",
        [2] = HostileSysName,
        [3] = "edge-rtr-3",
        [DoomedHost] = "doomed-ap",
    };

    public TestApp App { get; private set; } = null!;

    public ConsoleBrowser Browser { get; private set; } = null!;

    public string ReaderKey { get; private set; } = "";

    public string OperatorKey { get; private set; } = "";

    public long CredentialId { get; private set; }

    public async Task InitializeAsync()
    {
        foreach (var (host, name) in AgentNames)
        {
            agents.Add(await SnmpdProcess.StartAsync(new SnmpdOptions { Addresses = [Host(host)], Port = AgentPort, SysName = name, Community = Community }));
        }

        App = await TestApp.StartAsync(o =>
        {
            o.EnabledTimers.Add("PollScheduler");
            o.Settings["NmsSchedulerSchedule"] = "*/1 * * * * *";
            o.Settings["Nms:Plugins:Directory"] = TestEnvironment.PluginsDirectory;
            o.Settings["Nms:Plugins:RunTimeoutSeconds"] = "5";
            o.Settings["Nms:Polling:TimeoutMilliseconds"] = "500";
            o.Settings["Nms:Reachability:TimeoutMilliseconds"] = "300";
            o.Settings["Nms:Reachability:Retries"] = "0";
            o.Settings["Nms:Health:Threshold"] = "2";
            o.Settings["Nms:Health:WindowSeconds"] = "60";
            o.Settings["Nms:Discovery:BatchSize"] = "4";
        });
        ReaderKey = await CreateKeyAsync("reader");
        OperatorKey = await CreateKeyAsync("operator");
        CredentialId = await CreateCredentialAsync($"agents-{Guid.NewGuid():N}"[..16], Community);
        Browser = await ConsoleBrowser.LaunchAsync();
    }

    public SnmpdProcess Agent(int host) => agents[AgentNames.Keys.ToList().IndexOf(host)];

    public async Task<string> CreateKeyAsync(string role)
    {
        using var response = await App.Client.PostAsJsonAsync("api_keys", new { name = $"{role}-{Guid.NewGuid():N}", role });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
    }

    public async Task<long> CreateCredentialAsync(string name, string community)
    {
        using var response = await App.Client.PostAsJsonAsync("credential_profiles", new { name, protocol = "snmp_v2c", community });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    }

    /// <summary>A device added by hand through the API, polled every 10 s; the one discovery found there already if it ran first.</summary>
    public async Task<long> CreateDeviceAsync(int host, string hostname)
    {
        using var response = await App.Client.PostAsJsonAsync("devices", new
        {
            ip = Host(host),
            port = AgentPort,
            plugin = "snmp",
            hostname,
            credential_profile_id = CredentialId,
            poll_interval_seconds = 10,
        });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            return body.GetProperty("device_id").GetInt64();
        }

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return body.GetProperty("id").GetInt64();
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        if (App is not null)
        {
            await App.DisposeAsync();
        }

        foreach (var agent in agents)
        {
            agent.Dispose();
        }
    }
}
