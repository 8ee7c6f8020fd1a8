using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Nms.Plugins.Sdk;
using Xunit;

namespace Nms.Plugins.Tests;

/// <summary>The SDK host in-process: budgets hold even against a handler that ignores its token.</summary>
public sealed class PluginHostTests
{
    [Fact]
    public async Task A_handler_that_ignores_its_token_is_cut_off_at_the_budget_and_others_still_answer()
    {
        var handler = new ScriptedHandler(async (target, token) =>
        {
            if (target.Id == "stuck")
            {
                await Task.Delay(TimeSpan.FromSeconds(30), CancellationToken.None);
            }

            if (target.Id == "throws")
            {
                throw new InvalidOperationException("boom\nsecond line");
            }

            return new PluginResult(target.Id, true, Hostname: "h-" + target.Id,
                Metrics: [new PluginMetric("ok", 1), new PluginMetric("nan", double.NaN), new PluginMetric("inf", double.PositiveInfinity)]);
        });
        var request = Plugins.Request("poll", 300,
            new PluginTarget("stuck", "127.0.0.1", 1), new PluginTarget("throws", "127.0.0.1", 1), new PluginTarget("fine", "127.0.0.1", 1));
        var clock = Stopwatch.StartNew();
        var (code, response, log) = await RunAsync(["-poll"], JsonSerializer.Serialize(request, ContractJson.Default.PluginRequest), handler);
        Assert.Equal(ExitCodes.Ran, code);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), clock.Elapsed.ToString());
        var results = response!.Results.ToDictionary(r => r.Id);
        Assert.Contains("timed out", results["stuck"].Error, StringComparison.Ordinal);
        Assert.Equal("InvalidOperationException: boom second line", results["throws"].Error);
        Assert.Equal("h-fine", results["fine"].Hostname);
        Assert.Equal(["ok"], results["fine"].Metrics!.Select(m => m.Name));
        Assert.Contains("3 targets, 2 failed", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Discovery_gives_each_credential_its_own_timeout()
    {
        TimeSpan? seen = null;
        var handler = new ScriptedHandler((target, _) => Task.FromResult(new PluginResult(target.Id, true)), (attempt) => seen = attempt);
        var request = Plugins.Request("discovery", 250,
            new PluginTarget("t", "127.0.0.1", 1, Credentials: [new PluginCredential(1, "snmp_v2c"), new PluginCredential(2, "snmp_v2c")]));
        var (code, _, _) = await RunAsync(["-discovery"], JsonSerializer.Serialize(request, ContractJson.Default.PluginRequest), handler);
        Assert.Equal(ExitCodes.Ran, code);
        Assert.Equal(TimeSpan.FromMilliseconds(250), seen);
    }

    private static async Task<(int Code, PluginResponse? Response, string Log)> RunAsync(string[] args, string stdin, IPluginHandler handler)
    {
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(stdin));
        using var output = new MemoryStream();
        using var log = new StringWriter();
        var code = await PluginHost.RunAsync(args, handler, new PluginHostOptions("test", 4), input, output, log, CancellationToken.None);
        var response = output.Length > 0 ? JsonSerializer.Deserialize(output.ToArray(), ContractJson.Default.PluginResponse) : null;
        return (code, response, log.ToString());
    }

    private sealed class ScriptedHandler(Func<PluginTarget, CancellationToken, Task<PluginResult>> run, Action<TimeSpan>? onDiscover = null) : IPluginHandler
    {
        public Task<PluginResult> DiscoverAsync(PluginTarget target, TimeSpan attemptTimeout, CancellationToken cancellationToken)
        {
            onDiscover?.Invoke(attemptTimeout);
            return run(target, cancellationToken);
        }

        public Task<PluginResult> PollAsync(PluginTarget target, TimeSpan timeout, CancellationToken cancellationToken) => run(target, cancellationToken);
    }
}
