using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Nms.Core.Configuration;
using Nms.Core.Plugins;
using Nms.Plugins.Sdk;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Polling;

/// <summary>The long-running (serve) mode of the plugin contract, with real processes: fake plugins as shell loops.</summary>
public sealed class ServedPluginTests : IDisposable
{
    private readonly FakePlugins plugins = new();
    private readonly List<ProcessPluginRunner> runners = [];

    public void Dispose()
    {
        foreach (var runner in runners)
        {
            runner.Dispose();
        }

        plugins.Dispose();
    }

    private ProcessPluginRunner Runner(int timeoutSeconds = 5, bool serve = true)
    {
        var runner = new ProcessPluginRunner(
            new PluginOptions { Directory = plugins.Directory, RunTimeoutSeconds = timeoutSeconds, MaxConcurrentProcesses = 4, Serve = serve },
            NullLogger<ProcessPluginRunner>.Instance);
        runners.Add(runner);
        return runner;
    }

    private static PluginRequest Request(params int[] ids) =>
        new(PluginContract.Version, PluginContract.PollMode, 1_000,
            ids.Select(i => new PluginTarget(i.ToString(CultureInfo.InvariantCulture), "127.0.0.1", 161)).ToList());

    [Fact]
    public async Task One_process_answers_many_batches()
    {
        plugins.AddServing("served", FakePlugins.ServeLoop("answer"));
        var runner = Runner();

        var first = await runner.RunAsync("served", Request(1, 2), CancellationToken.None);
        var pid = runner.ServingProcessId("served");
        var second = await runner.RunAsync("served", Request(3), CancellationToken.None);

        Assert.True(first.Succeeded, first.Error);
        Assert.True(second.Succeeded, second.Error);
        Assert.Equal(["1", "2"], first.Response!.Results.Select(r => r.Id));
        Assert.Equal(["3"], second.Response!.Results.Select(r => r.Id));
        Assert.NotNull(pid);
        Assert.Equal(pid, runner.ServingProcessId("served"));
    }

    [Fact]
    public async Task Concurrent_batches_answered_out_of_order_each_get_their_own_answer()
    {
        // Holds every answer until four requests are in, then answers them newest first.
        plugins.AddServing("reorder", FakePlugins.ServeLoop("""
            eval "batch_$n=$batch; ids_$n='$ids'"
            if [ $n = 4 ]; then
              for k in 4 3 2 1; do eval "batch=\$batch_$k; ids=\$ids_$k"; answer; done
            fi
            """));
        var runner = Runner();

        var runs = await Task.WhenAll(Enumerable.Range(1, 4).Select(i => runner.RunAsync("reorder", Request(i * 10, i * 10 + 1), CancellationToken.None)));

        for (var i = 0; i < 4; i++)
        {
            Assert.True(runs[i].Succeeded, runs[i].Error);
            Assert.Equal([$"{(i + 1) * 10}", $"{(i + 1) * 10 + 1}"], runs[i].Response!.Results.Select(r => r.Id));
        }
    }

    [Fact]
    public async Task A_crash_mid_batch_fails_that_batch_and_the_next_batch_gets_a_new_process()
    {
        // The second request kills the process (after the first was answered).
        plugins.AddServing("crashy", FakePlugins.ServeLoop("""
            if [ $n = 2 ]; then echo 'segfault in the agent' >&2; kill -SEGV $$; fi
            answer
            """));
        var runner = Runner();

        var before = await runner.RunAsync("crashy", Request(1), CancellationToken.None);
        var firstPid = runner.ServingProcessId("crashy");
        var crashed = await runner.RunAsync("crashy", Request(2, 3), CancellationToken.None);
        var after = await runner.RunAsync("crashy", Request(4), CancellationToken.None);

        Assert.True(before.Succeeded, before.Error);
        Assert.False(crashed.Succeeded);
        Assert.Contains("exited with code", crashed.Error, StringComparison.Ordinal);
        Assert.Contains("segfault in the agent", crashed.Error, StringComparison.Ordinal);
        Assert.True(after.Succeeded, after.Error);
        Assert.Equal(["4"], after.Response!.Results.Select(r => r.Id));
        Assert.NotEqual(firstPid, runner.ServingProcessId("crashy"));
    }

    [Fact]
    public async Task A_hang_is_killed_at_the_deadline_and_the_next_batch_gets_a_new_process()
    {
        var pidFile = Path.Combine(plugins.Directory, "hung.pid");
        // The first process never answers; the ones after it do.
        plugins.AddServing("hangs", $$"""
            if [ ! -f '{{pidFile}}' ]; then echo $$ > '{{pidFile}}'; exec sleep 300; fi
            {{FakePlugins.ServeLoop("answer")}}
            """);
        var runner = Runner(timeoutSeconds: 1);

        var hung = await runner.RunAsync("hangs", Request(1), CancellationToken.None);
        var after = await runner.RunAsync("hangs", Request(2), CancellationToken.None);

        Assert.False(hung.Succeeded);
        Assert.Contains("timed out after 1 s", hung.Error, StringComparison.Ordinal);
        Assert.True(after.Succeeded, after.Error);
        var hungPid = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
        await TestApp.EventuallyAsync(() => Task.FromResult(!File.Exists($"/proc/{hungPid}/stat") || File.ReadAllText($"/proc/{hungPid}/stat").Contains(") Z", StringComparison.Ordinal)),
            "the hung plugin process to be killed", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Garbage_fails_the_waiting_batch_not_the_app_and_the_next_batch_is_answered()
    {
        // Only the first process ever writes garbage (a file marks it done); the restarted one answers.
        plugins.AddServing("garbage", FakePlugins.ServeLoop("""
            if [ ! -f "$0.once" ]; then : > "$0.once"; head -c 2000 /dev/urandom | tr -d '\n'; echo; else answer; fi
            """));
        var runner = Runner();

        var garbage = await runner.RunAsync("garbage", Request(1), CancellationToken.None);
        var after = await runner.RunAsync("garbage", Request(2), CancellationToken.None);

        Assert.False(garbage.Succeeded);
        Assert.Contains("invalid JSON", garbage.Error, StringComparison.Ordinal);
        Assert.True(after.Succeeded, after.Error);
    }

    [Fact]
    public async Task A_line_without_a_batch_id_is_garbage_too()
    {
        plugins.AddServing("anonymous", FakePlugins.ServeLoop("""
            if [ ! -f "$0.once" ]; then : > "$0.once"; echo '{"contract_version":1,"results":[]}'; else answer; fi
            """));
        var runner = Runner();

        var anonymous = await runner.RunAsync("anonymous", Request(1), CancellationToken.None);
        var after = await runner.RunAsync("anonymous", Request(2), CancellationToken.None);

        Assert.False(anonymous.Succeeded);
        Assert.Contains("without a batch_id", anonymous.Error, StringComparison.Ordinal);
        Assert.True(after.Succeeded, after.Error);
    }

    [Fact]
    public async Task A_clean_exit_between_batches_is_restarted_on_demand()
    {
        // Each process answers one request, then exits 0.
        plugins.AddServing("oneshot", FakePlugins.ServeLoop("answer; exit 0"));
        var runner = Runner();

        var runs = new List<PluginRunResult>();
        var pids = new HashSet<int?>();
        for (var i = 1; i <= 3; i++)
        {
            runs.Add(await runner.RunAsync("oneshot", Request(i), CancellationToken.None));
            pids.Add(runner.ServingProcessId("oneshot") ?? -i);
        }

        Assert.All(runs, r => Assert.True(r.Succeeded, r.Error));
        Assert.Equal(["1", "2", "3"], runs.Select(r => r.Response!.Results.Single().Id));
        Assert.Equal(3, pids.Count);
    }

    [Fact]
    public async Task A_refused_request_fails_only_that_batch()
    {
        plugins.AddServing("refuses", FakePlugins.ServeLoop("""
            if [ $n = 1 ]; then printf '{"contract_version":1,"batch_id":"%s","results":[],"error":"unsupported contract version"}\n' "$batch"; else answer; fi
            """));
        var runner = Runner();

        var refused = await runner.RunAsync("refuses", Request(1), CancellationToken.None);
        var after = await runner.RunAsync("refuses", Request(2), CancellationToken.None);

        Assert.False(refused.Succeeded);
        Assert.Contains("unsupported contract version", refused.Error, StringComparison.Ordinal);
        Assert.True(after.Succeeded, after.Error);
    }

    [Fact]
    public async Task With_serve_off_a_serving_plugin_runs_one_shot()
    {
        // Reads the whole of stdin, as a one-shot plugin does; in serve mode it would never answer.
        plugins.AddServing("both", """cat >/dev/null; echo '{"contract_version":1,"results":[]}'""");

        var run = await Runner(timeoutSeconds: 5, serve: false).RunAsync("both", Request(1), CancellationToken.None);

        Assert.True(run.Succeeded, run.Error);
    }

    [Fact]
    public async Task The_real_snmp_plugin_serves_batches_with_its_ids()
    {
        plugins.AddReal("snmp");
        Assert.True(File.Exists(Path.Combine(plugins.Directory, "snmp" + ContractInfo.ManifestSuffix)), "the published snmp plugin has a manifest");
        var runner = Runner();

        // Nothing answers on this port: each target fails on its own, inside a batch that succeeds.
        var first = await runner.RunAsync("snmp", new PluginRequest(1, PluginContract.PollMode, 300, [new PluginTarget("7", "127.0.0.1", 9)]), CancellationToken.None);
        var pid = runner.ServingProcessId("snmp");
        var second = await runner.RunAsync("snmp", new PluginRequest(1, PluginContract.PollMode, 300, [new PluginTarget("8", "127.0.0.1", 9), new PluginTarget("9", "127.0.0.1", 9)]), CancellationToken.None);

        Assert.True(first.Succeeded, first.Error);
        Assert.True(second.Succeeded, second.Error);
        Assert.Equal(["7"], first.Response!.Results.Select(r => r.Id));
        Assert.Equal(["8", "9"], second.Response!.Results.Select(r => r.Id));
        Assert.All(second.Response.Results, r => Assert.False(r.Success));
        Assert.NotNull(pid);
        Assert.Equal(pid, runner.ServingProcessId("snmp"));
    }
}
