using Nms.Plugins.Sdk;
using Xunit;

namespace Nms.Plugins.Tests;

/// <summary>An snmpd with objects beyond IF-MIB and HOST-RESOURCES: net-snmp <c>extend</c> commands (NET-SNMP-EXTEND-MIB).</summary>
public sealed class ExtendAgentFixture : IAsyncLifetime
{
    public const string Community = "nms-profile-community";

    public SnmpdProcess Agent { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _ = Plugins.Directory;
        Agent = await SnmpdProcess.StartAsync(new SnmpdOptions
        {
            Community = Community,
            ExtraConfig =
            [
                "extend nms-seven /bin/sh -c \"exit 7\"",
                "extend nms-nine /bin/sh -c \"exit 9\"",
                "extend nms-text /bin/echo 42.5",
            ],
        });
    }

    public Task DisposeAsync()
    {
        Agent?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>Poll profiles in the request envelope: the plugin reads what the profile asks, nothing more, within its budget.</summary>
public sealed class PollProfileTests(ExtendAgentFixture fixture) : IClassFixture<ExtendAgentFixture>
{
    // NET-SNMP-EXTEND-MIB: nsExtendArgs, nsExtendResult (exit code), nsExtendOutput1Line, indexed by the name as a string.
    private const string ExtendArgs = "1.3.6.1.4.1.8072.1.3.2.2.1.3";
    private const string ExtendResult = "1.3.6.1.4.1.8072.1.3.2.3.1.4";
    private const string TextLine = "1.3.6.1.4.1.8072.1.3.2.3.1.1.8.110.109.115.45.116.101.120.116"; // ."nms-text"

    private static readonly PluginPollProfile Profile = new(
        "extend-and-octets",
        Scalars: [new PluginPollObject("1.3.6.1.2.1.1.3.0", "uptime_ticks"), new PluginPollObject(TextLine, "extend_text_value")],
        Tables:
        [
            new PluginPollTable([new PluginPollObject(ExtendResult, "extend_exit_code")], IndexLabel: "extend", Lookups: [new PluginPollLookup(ExtendArgs, "args")]),
            new PluginPollTable([new PluginPollObject("1.3.6.1.2.1.31.1.1.1.6", "lo_in_octets_total", Kind: "counter")], IndexLabel: "if_index",
                Lookups: [new PluginPollLookup("1.3.6.1.2.1.31.1.1.1.1", "interface")]),
        ],
        MaxRequests: 10);

    private PluginTarget Target(string id, PluginPollProfile profile, string protocol = Protocols.SnmpV2c) =>
        new(id, fixture.Agent.Address, fixture.Agent.Port, Credential: new PluginCredential(1, protocol, Community: ExtendAgentFixture.Community), PollProfile: profile);

    [Theory]
    [InlineData(Protocols.SnmpV2c)]
    [InlineData(Protocols.SnmpV1)]
    public async Task A_profile_reads_its_scalars_and_tables_with_lookups_and_nothing_else(string protocol)
    {
        var run = await Plugins.RunAsync("snmp", "poll", Plugins.Request("poll", 3000, Target("dev", Profile, protocol)));
        Expect.Ran(run);
        var result = run.Result("dev");
        Assert.True(result.Success, result.Error);
        var metrics = result.Metrics!;
        // SNMPv1 cannot carry the Counter64 ifHCInOctets: that column is simply empty there.
        string[] expected = protocol == Protocols.SnmpV1
            ? ["extend_exit_code", "extend_text_value", "uptime_ticks"]
            : ["extend_exit_code", "extend_text_value", "lo_in_octets_total", "uptime_ticks"];
        Assert.Equal(expected, metrics.Select(m => m.Name).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(42.5, metrics.Single(m => m.Name == "extend_text_value").Value);
        var exits = metrics.Where(m => m.Name == "extend_exit_code").ToDictionary(m => m.Labels!["args"], m => m.Value);
        Assert.Equal(7, exits["-c \"exit 7\""]);
        Assert.Equal(9, exits["-c \"exit 9\""]);
        Assert.Equal("8.110.109.115.45.110.105.110.101", metrics.Single(m => m.Name == "extend_exit_code" && m.Value == 9).Labels!["extend"]);
        if (protocol != Protocols.SnmpV1)
        {
            var octets = metrics.Single(m => m.Name == "lo_in_octets_total" && m.Labels!["interface"] == "lo");
            Assert.Equal(("counter", 64), (octets.Kind, octets.CounterBits!.Value));
        }

        Assert.DoesNotContain(metrics, m => m.Name.StartsWith("if_", StringComparison.Ordinal) || m.Name == "sys_uptime_seconds");
    }

    [Fact]
    public async Task A_device_over_its_request_budget_fails_alone_with_the_reason()
    {
        var tight = Profile with { MaxRequests = 1 };
        var broken = Profile with { Scalars = [new PluginPollObject("1.3.x.1", "bad")] };
        var run = await Plugins.RunAsync("snmp", "poll", Plugins.Request("poll", 3000, Target("tight", tight), Target("broken", broken), Target("ok", Profile)));
        Expect.Ran(run);
        Assert.Contains("request budget of 1 requests", run.Result("tight").Error, StringComparison.Ordinal);
        Assert.Contains("'1.3.x.1' is not an object identifier", run.Result("broken").Error, StringComparison.Ordinal);
        Assert.True(run.Result("ok").Success, run.Result("ok").Error);
    }
}
