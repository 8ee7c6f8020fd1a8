using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Nms.Core.Configuration;
using Nms.Core.Plugins;
using Nms.Plugins.Sdk;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Polling;

public sealed class PluginRunnerTests : IDisposable
{
    private readonly FakePlugins plugins = new();

    public void Dispose() => plugins.Dispose();

    private ProcessPluginRunner Runner(int timeoutSeconds = 2, int maxOutputBytes = 1024 * 1024, int slots = 4) =>
        new(new PluginOptions { Directory = plugins.Directory, RunTimeoutSeconds = timeoutSeconds, MaxOutputBytes = maxOutputBytes, MaxConcurrentProcesses = slots },
            NullLogger<ProcessPluginRunner>.Instance);

    private static PluginRequest Request(int targets = 1) =>
        new(PluginContract.Version, PluginContract.PollMode, 1_000, Enumerable.Range(1, targets).Select(i => new PluginTarget(i.ToString(System.Globalization.CultureInfo.InvariantCulture), "127.0.0.1", 161)).ToList());

    [Fact]
    public async Task A_plugin_that_answers_is_parsed()
    {
        plugins.AddEcho("echo");

        var run = await Runner().RunAsync("echo", Request(3), CancellationToken.None);

        Assert.True(run.Succeeded, run.Error);
        Assert.Equal(["1", "2", "3"], run.Response!.Results.Select(r => r.Id));
    }

    [Fact]
    public async Task A_crash_is_reported_with_its_exit_code_and_last_stderr_line()
    {
        plugins.Add("crash", "cat >/dev/null; echo 'first' >&2; echo 'agent said no' >&2; kill -SEGV $$");

        var run = await Runner().RunAsync("crash", Request(), CancellationToken.None);

        Assert.False(run.Succeeded);
        Assert.Contains("exited with code", run.Error, StringComparison.Ordinal);
        Assert.Contains("agent said no", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Garbage_output_is_invalid_json()
    {
        plugins.Add("garbage", "cat >/dev/null; head -c 3000 /dev/urandom");

        var run = await Runner().RunAsync("garbage", Request(), CancellationToken.None);

        Assert.False(run.Succeeded);
        Assert.Contains("invalid JSON", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_plugin_that_exits_without_reading_its_input_still_gets_a_verdict()
    {
        plugins.Add("deaf", "exit 0");

        var run = await Runner().RunAsync("deaf", Request(2_000), CancellationToken.None);

        Assert.False(run.Succeeded);
        Assert.NotNull(run.Error);
    }

    [Fact]
    public async Task A_hang_is_killed_with_its_whole_process_tree_at_the_deadline()
    {
        var pidFile = Path.Combine(plugins.Directory, "child.pid");
        plugins.Add("hang", $"cat >/dev/null; sleep 300 & echo $! > '{pidFile}'; sleep 300");
        var watch = Stopwatch.StartNew();

        var run = await Runner(timeoutSeconds: 1).RunAsync("hang", Request(), CancellationToken.None);

        Assert.False(run.Succeeded);
        Assert.Contains("timed out", run.Error, StringComparison.Ordinal);
        Assert.InRange(watch.Elapsed.TotalSeconds, 0.9, 5);
        var child = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        await Nms.Tests.Infrastructure.TestApp.EventuallyAsync(() => Task.FromResult(!IsAlive(child)), "the plugin's child process to be killed", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Huge_output_is_cut_off_at_the_cap_and_the_plugin_killed()
    {
        plugins.Add("flood", "cat >/dev/null; yes '{\"contract_version\":1}'");
        var watch = Stopwatch.StartNew();

        var run = await Runner(maxOutputBytes: 256 * 1024).RunAsync("flood", Request(), CancellationToken.None);

        Assert.False(run.Succeeded);
        Assert.Contains("exceeded", run.Error, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Megabytes_of_stderr_do_not_fail_an_otherwise_good_run()
    {
        plugins.Add("chatty", "cat >/dev/null; head -c 3000000 /dev/zero | tr '\\0' 'x' >&2; echo ' last words' >&2; echo '{\"contract_version\":1,\"results\":[]}'");

        var run = await Runner(maxOutputBytes: 64 * 1024).RunAsync("chatty", Request(), CancellationToken.None);

        Assert.True(run.Succeeded, run.Error);
    }

    [Fact]
    public async Task Runs_beyond_the_pool_size_wait_for_a_slot()
    {
        var log = Path.Combine(plugins.Directory, "running.log");
        plugins.Add("slow", $$"""
            cat >/dev/null
            echo start >> '{{log}}'
            sleep 0.3
            echo end >> '{{log}}'
            echo '{"contract_version":1,"results":[]}'
            """);
        var runner = Runner(slots: 2);

        var runs = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => runner.RunAsync("slow", Request(), CancellationToken.None)));

        Assert.All(runs, r => Assert.True(r.Succeeded, r.Error));
        var running = 0;
        var peak = 0;
        foreach (var line in File.ReadAllLines(log))
        {
            running += line == "start" ? 1 : -1;
            peak = Math.Max(peak, running);
        }

        Assert.Equal(2, peak);
    }

    [Fact]
    public async Task An_unknown_or_malformed_plugin_name_is_an_error_not_an_exception()
    {
        var missing = await Runner().RunAsync("nosuch", Request(), CancellationToken.None);
        var traversal = await Runner().RunAsync("../../bin/sh", Request(), CancellationToken.None);

        Assert.Contains("not installed", missing.Error, StringComparison.Ordinal);
        Assert.Contains("invalid plugin name", traversal.Error, StringComparison.Ordinal);
    }

    private static bool IsAlive(int pid)
    {
        var stat = $"/proc/{pid}/stat";
        if (!File.Exists(stat))
        {
            return false;
        }

        try
        {
            // A zombie (state Z) is dead, only not yet reaped by its parent.
            var text = File.ReadAllText(stat);
            return text[(text.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}
