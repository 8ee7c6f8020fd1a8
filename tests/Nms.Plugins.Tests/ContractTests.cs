using Nms.Plugins.Sdk;
using Xunit;

namespace Nms.Plugins.Tests;

public sealed class ContractTests
{
    [Theory]
    [InlineData("snmp", "-bogus")]
    [InlineData("ssh", "-bogus")]
    [InlineData("snmp", "discovery")]
    [InlineData("ssh", "")]
    public async Task An_unknown_mode_exits_2_with_a_one_line_reason(string plugin, string argument)
    {
        var run = await Plugins.RunRawAsync(plugin, argument.Length == 0 ? [] : [argument], "{}");
        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Empty(run.Stdout);
        Assert.Single(run.Stderr.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("snmp", "{not json")]
    [InlineData("ssh", "")]
    [InlineData("snmp", "[1,2,3]")]
    [InlineData("snmp", "{\"contract_version\":1,\"mode\":\"poll\",\"timeout_ms\":1000}")]
    [InlineData("ssh", "{\"contract_version\":1,\"mode\":\"poll\",\"timeout_ms\":1000,\"targets\":[{\"ip\":\"127.0.0.1\",\"port\":22}]}")]
    [InlineData("snmp", "{\"contract_version\":1,\"mode\":\"poll\",\"timeout_ms\":0,\"targets\":[]}")]
    [InlineData("snmp", "{\"contract_version\":1,\"mode\":\"discovery\",\"timeout_ms\":1000,\"targets\":[]}")]
    public async Task Malformed_stdin_exits_3_with_a_one_line_reason(string plugin, string stdin)
    {
        var run = await Plugins.RunRawAsync(plugin, ["-poll"], stdin);
        Assert.Equal(ExitCodes.MalformedRequest, run.ExitCode);
        Assert.Empty(run.Stdout);
        var lines = run.Stderr.Trim().Split('\n');
        Assert.Single(lines);
        Assert.Contains("malformed request", lines[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("snmp")]
    [InlineData("ssh")]
    public async Task An_unsupported_contract_version_exits_4(string plugin)
    {
        var run = await Plugins.RunRawAsync(plugin, ["-poll"], "{\"contract_version\":99,\"mode\":\"poll\",\"timeout_ms\":1000,\"targets\":[]}");
        Assert.Equal(ExitCodes.UnsupportedVersion, run.ExitCode);
        Assert.Contains("unsupported contract version 99", run.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("snmp")]
    [InlineData("ssh")]
    public async Task An_empty_batch_runs_and_answers_with_no_results(string plugin)
    {
        var run = await Plugins.RunAsync(plugin, "poll", Plugins.Request("poll", 1000));
        Expect.Ran(run);
        Assert.Equal(ContractInfo.Version, run.Response.ContractVersion);
        Assert.Empty(run.Response.Results);
    }

    [Theory]
    [InlineData("snmp", "poll")]
    [InlineData("ssh", "poll")]
    [InlineData("snmp", "discovery")]
    [InlineData("ssh", "discovery")]
    public async Task A_target_without_a_usable_credential_fails_alone(string plugin, string mode)
    {
        var run = await Plugins.RunAsync(plugin, mode, Plugins.Request(mode, 1000,
            new PluginTarget("t1", "127.0.0.1", 9, Credential: new PluginCredential(1, "carrier_pigeon"), Credentials: [new PluginCredential(1, "carrier_pigeon")])));
        Expect.Ran(run);
        var result = run.Result("t1");
        Assert.False(result.Success);
        Assert.False(string.IsNullOrWhiteSpace(result.Error));
    }

    [Fact]
    public async Task Responses_use_snake_case_and_omit_nulls()
    {
        var run = await Plugins.RunAsync("snmp", "poll", Plugins.Request("poll", 500, new PluginTarget("x", "not-an-ip", 161, Credential: new PluginCredential(3, "snmp_v2c", Community: "c"))));
        Expect.Ran(run);
        Assert.Contains("\"contract_version\":1", run.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("\"metrics\"", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("not an IP address", run.Result("x").Error, StringComparison.Ordinal);
    }
}
