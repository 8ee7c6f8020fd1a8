using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Nms.Core.Configuration;
using Nms.Core.Credentials;
using Nms.Core.Diagnostics;
using Nms.Core.Entities;
using Nms.Core.Health;
using Nms.Core.Metrics;
using Nms.Core.Plugins;
using Nms.Core.Polling;
using Nms.Core.Reachability;
using Nms.Tests.Infrastructure;
using Npgsql;

namespace Nms.Tests.Polling;

public sealed class PollerTests : IAsyncLifetime, IDisposable
{
    private static readonly QueueNames Queues = new("discovery", "poll", "metrics", "failures");
    private static readonly DateTimeOffset Due = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly PollingDatabase db = new();
    private readonly FakePlugins plugins = new();
    private readonly RecordingQueueSender sent = new();
    private readonly NmsInstruments instruments = new();
    private readonly CryptoOptions crypto = new() { ActiveKeyId = "k1", Keys = { ["k1"] = Convert.ToBase64String(new byte[32]) } };
    private ProcessPluginRunner? runner;

    public Task InitializeAsync() => db.InitializeAsync();

    public Task DisposeAsync() => db.DisposeAsync();

    public void Dispose()
    {
        runner?.Dispose();
        instruments.Dispose();
        plugins.Dispose();
    }

    private Poller Poller(string mode = "icmp")
    {
        var reachabilityOptions = new ReachabilityOptions { Mode = mode, FpingPath = TestEnvironment.Fping, TimeoutMilliseconds = 300, Retries = 0 };
        runner = new ProcessPluginRunner(new PluginOptions { Directory = plugins.Directory, RunTimeoutSeconds = 2, MaxConcurrentProcesses = 4 }, NullLogger<ProcessPluginRunner>.Instance);
        return new Poller(
            db.Data,
            new ReachabilityChecker(reachabilityOptions, new FpingReachability(reachabilityOptions, NullLogger<FpingReachability>.Instance), new TcpReachability(reachabilityOptions), NullLogger<ReachabilityChecker>.Instance),
            new PluginTargetRunner(runner, new CredentialReader(db.Data.Api, new SecretSealer(crypto)), NullLogger<PluginTargetRunner>.Instance),
            sent,
            Queues,
            new PollingOptions { TimeoutMilliseconds = 1_000 },
            new HealthOptions(),
            instruments,
            TimeProvider.System,
            NullLogger<Poller>.Instance);
    }

    private static PollBatchMessage Batch(params (long Id, string Ip, int Port, string Plugin)[] devices) =>
        new(Guid.NewGuid(), Due, devices.Select(d => new PollTarget(d.Id, Due)).ToList());

    private async Task<(long Id, string Ip, int Port, string Plugin)> Device(string ip, string plugin, int port = 161)
    {
        var id = await db.InsertDeviceAsync(ip, port, plugin, Due);
        return (id, ip, port, plugin);
    }

    private IReadOnlyList<FailureEvent> Failures => sent.Messages<FailureBatchMessage>("failures").SelectMany(m => m.Events).ToList();

    private IReadOnlyList<MetricSample> Samples => sent.Messages<MetricsBatchMessage>("metrics").SelectMany(m => m.AllSamples()).ToList();

    [Fact]
    public async Task Plugins_that_crash_print_garbage_hang_or_omit_a_device_fail_exactly_their_devices_and_leave_other_groups_alone()
    {
        plugins.AddEcho("good");
        plugins.Add("crash", "cat >/dev/null; echo 'segfault in the agent' >&2; exit 3");
        plugins.Add("garbage", "cat >/dev/null; echo 'this is not { json'");
        plugins.Add("hang", "cat >/dev/null; sleep 30");
        var good = new[] { await Device("127.0.0.1", "good"), await Device("127.0.0.2", "good") };
        var crash = new[] { await Device("127.0.0.3", "crash"), await Device("127.0.0.4", "crash") };
        var garbage = new[] { await Device("127.0.0.5", "garbage") };
        var hang = new[] { await Device("127.0.0.6", "hang") };
        var omitKept = await Device("127.0.0.7", "omit");
        var omitted = await Device("127.0.0.8", "omit");
        plugins.AddEcho("omit", omitted.Id);

        var outcome = await Poller().PollAsync(Batch([.. good, .. crash, .. garbage, .. hang, omitKept, omitted]), CancellationToken.None);

        var failures = Failures.ToDictionary(f => f.DeviceId);
        Assert.Equal(crash.Concat(garbage).Concat(hang).Append(omitted).Select(d => d.Id).Order(), failures.Keys.Order());
        Assert.All(failures.Values, f => Assert.Equal(FailureEvent.PollReason, f.Reason));
        Assert.Contains("exited with code 3", failures[crash[0].Id].Error, StringComparison.Ordinal);
        Assert.Contains("segfault in the agent", failures[crash[0].Id].Error, StringComparison.Ordinal);
        Assert.Contains("invalid JSON", failures[garbage[0].Id].Error, StringComparison.Ordinal);
        Assert.Contains("timed out", failures[hang[0].Id].Error, StringComparison.Ordinal);
        Assert.Contains("no result", failures[omitted.Id].Error, StringComparison.Ordinal);

        var samples = Samples;
        Assert.Equal(good.Append(omitKept).Select(d => d.Id).Order(), samples.Select(s => s.DeviceId).Distinct().Order());
        Assert.All(good.Append(omitKept), d => Assert.Equal(161, samples.Single(s => s.DeviceId == d.Id && s.Name == "port").Value));
        Assert.Equal("tcp", samples.First(s => s.Name == "port").Labels!["kind"]);
        Assert.Equal((3, 5), (outcome.Polled, outcome.Failed));
    }

    [Fact]
    public async Task A_device_that_does_not_answer_ping_gets_a_ping_failure_and_is_not_polled()
    {
        using var blackhole = new IcmpBlackhole();
        plugins.Add("good", $"cat > '{plugins.Directory}/stdin.json'; echo '{{\"contract_version\":1,\"results\":[]}}'");
        var silent = await Device(blackhole.Address(5), "good");

        await Poller().PollAsync(Batch(silent), CancellationToken.None);

        var failure = Assert.Single(Failures);
        Assert.Equal((silent.Id, FailureEvent.PingReason), (failure.DeviceId, failure.Reason));
        Assert.False(File.Exists(Path.Combine(plugins.Directory, "stdin.json")), "the plugin ran for an unreachable device");
        Assert.Empty(Samples);
    }

    [Fact]
    public async Task In_tcp_mode_a_port_with_nothing_listening_gets_a_ping_failure()
    {
        plugins.AddEcho("ssh");
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var closedPort = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var closed = await Device("127.0.0.1", "ssh", closedPort);

        await Poller("tcp").PollAsync(Batch(closed), CancellationToken.None);

        var failure = Assert.Single(Failures);
        Assert.Equal((closed.Id, FailureEvent.PingReason), (failure.DeviceId, failure.Reason));
    }

    [Fact]
    public async Task Devices_deactivated_or_deleted_between_pop_and_poll_are_skipped()
    {
        plugins.AddEcho("good");
        var active = await Device("127.0.0.1", "good");
        var deactivated = await Device("127.0.0.2", "good");
        var deleted = await Device("127.0.0.3", "good");
        await db.Data.Api.DeactivateByOperatorAsync(deactivated.Id);
        await db.Data.Api.DeleteDeviceAsync(deleted.Id);

        var outcome = await Poller().PollAsync(Batch(active, deactivated, deleted), CancellationToken.None);

        Assert.Equal([active.Id], Samples.Select(s => s.DeviceId).Distinct());
        Assert.Empty(Failures);
        Assert.Equal(2, outcome.Skipped);
    }

    [Fact]
    public async Task A_successful_poll_clears_the_failure_count_and_a_failed_one_does_not()
    {
        plugins.AddEcho("good");
        plugins.Add("crash", "cat >/dev/null; exit 1");
        var ok = await Device("127.0.0.1", "good");
        var bad = await Device("127.0.0.2", "crash");
        await db.Data.Api.RecordFailureCountAsync(ok.Id, 2, DateTimeOffset.UtcNow);
        await db.Data.Api.RecordFailureCountAsync(bad.Id, 2, DateTimeOffset.UtcNow);

        await Poller().PollAsync(Batch(ok, bad), CancellationToken.None);

        Assert.Equal(0, await db.ScalarAsync<int>("SELECT failure_count FROM devices WHERE id = $1", ok.Id));
        Assert.Equal(2, await db.ScalarAsync<int>("SELECT failure_count FROM devices WHERE id = $1", bad.Id));
    }

    [Fact]
    public async Task The_plugin_gets_the_decrypted_credential_and_host_key_on_stdin_and_the_queues_never_see_them()
    {
        var sealedSecret = new CredentialReader(db.Data.Api, new SecretSealer(crypto)).Seal(new CredentialSecretFields(Password: "hunter2-very-secret"));
        var credentialId = await db.ScalarAsync<long>(
            "INSERT INTO credential_profiles (name, protocol, settings, secret_ciphertext, secret_key_id, created_at, updated_at) VALUES ('c', 'ssh', '{\"user\":\"admin\"}', $1, $2, now(), now()) RETURNING id",
            sealedSecret.Ciphertext, sealedSecret.KeyId);
        var id = await db.InsertDeviceAsync("127.0.0.1", 22, "ssh", Due, credentialId: credentialId, hostKey: "ssh-ed25519 AAAAC3Nzhostkey");
        var stdin = Path.Combine(plugins.Directory, "stdin.json");
        plugins.Add("ssh", $"cat > '{stdin}'; echo '{{\"contract_version\":1,\"results\":[{{\"id\":\"{id}\",\"success\":true,\"metrics\":[{{\"name\":\"up\",\"value\":1}}]}}]}}'");

        await Poller().PollAsync(Batch((id, "127.0.0.1", 22, "ssh")), CancellationToken.None);

        var request = await File.ReadAllTextAsync(stdin);
        Assert.Contains("hunter2-very-secret", request, StringComparison.Ordinal);
        Assert.Contains("\"user\":\"admin\"", request, StringComparison.Ordinal);
        Assert.Contains("ssh-ed25519 AAAAC3Nzhostkey", request, StringComparison.Ordinal);
        Assert.Contains("\"mode\":\"poll\"", request, StringComparison.Ordinal);
        Assert.Single(Samples);
        Assert.All(sent.Sent, m => Assert.DoesNotContain("hunter2", Encoding.UTF8.GetString(m.Json), StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_device_whose_samples_together_exceed_one_message_loses_only_a_sample_too_large_on_its_own()
    {
        // 40 samples of ~2 KB labels each: one device's poll (~80 KB) cannot be one message entry, each sample can;
        // the last sample (~50 KB of label) fits no message at all.
        var label = new string('x', 2000);
        var huge = new string('y', 50_000);
        plugins.Add("wide", $$$"""
            input=$(cat)
            id=$(printf '%s' "$input" | tr '{' '\n' | grep '"id"' | sed -E 's/.*"id":"([0-9]+)".*/\1/')
            printf '{"contract_version":1,"results":[{"id":"%s","success":true,"metrics":[' "$id"
            m=0
            while [ $m -lt 40 ]; do
              printf '{"name":"descr","value":%s,"labels":{"if_index":"%s","if_descr":"{{{label}}}"}},' "$m" "$m"
              m=$((m+1))
            done
            printf '{"name":"descr","value":99,"labels":{"if_descr":"{{{huge}}}"}}]}]}'
            """);
        var device = await Device("127.0.0.1", "wide");

        var outcome = await Poller().PollAsync(Batch(device), CancellationToken.None);

        Assert.Equal(Enumerable.Range(0, 40).Select(i => (double)i), Samples.Select(s => s.Value).Order());
        Assert.All(sent.Sent.Where(m => m.Queue == "metrics"), m => Assert.True(Convert.ToBase64String(m.Json).Length < 64 * 1024));
        Assert.Equal(1, outcome.Polled);
    }

    [Fact]
    public async Task Results_too_large_for_one_queue_message_are_split_into_messages_under_the_limit()
    {
        // 64 devices x 150 labelled metrics: about 1.5 MB of samples, far over one 64 KiB message.
        plugins.Add("bulk", """
            input=$(cat)
            ids=$(printf '%s' "$input" | tr '{' '\n' | grep '"id"' | sed -E 's/.*"id":"([0-9]+)".*/\1/')
            printf '{"contract_version":1,"results":['
            sep=''
            for id in $ids; do
              printf '%s{"id":"%s","success":true,"metrics":[' "$sep" "$id"; sep=','
              m=0; msep=''
              while [ $m -lt 150 ]; do
                printf '%s{"name":"if_in_octets","value":%s,"labels":{"if_index":"%s","if_name":"GigabitEthernet0/0/%s"}}' "$msep" "$m" "$m" "$m"
                msep=','; m=$((m+1))
              done
              printf ']}'
            done
            printf ']}'
            """);
        var devices = new List<(long, string, int, string)>();
        for (var i = 1; i <= 64; i++)
        {
            devices.Add(await Device($"127.0.0.{i}", "bulk"));
        }

        var outcome = await Poller().PollAsync(Batch([.. devices]), CancellationToken.None);

        var messages = sent.Sent.Where(m => m.Queue == "metrics").ToList();
        Assert.True(messages.Count > 10, $"expected the batch to be split, got {messages.Count} messages");
        Assert.All(messages, m => Assert.True(Convert.ToBase64String(m.Json).Length < 64 * 1024, $"a message is {Convert.ToBase64String(m.Json).Length} bytes in Base64"));
        Assert.Equal(64 * 150, Samples.Count);
        Assert.Equal(64 * 150, outcome.Samples);
        Assert.Equal(messages.Count, sent.Messages<MetricsBatchMessage>("metrics").Select(m => m.BatchId).Distinct().Count());
    }

    [Fact]
    public async Task A_redelivered_poll_batch_produces_the_same_failure_event_ids()
    {
        plugins.Add("crash", "cat >/dev/null; exit 1");
        var device = await Device("127.0.0.1", "crash");
        var batch = Batch(device);
        var poller = Poller();

        await poller.PollAsync(batch, CancellationToken.None);
        await poller.PollAsync(batch, CancellationToken.None);

        var failures = Failures;
        Assert.Equal(2, failures.Count);
        Assert.Equal(failures[0].EventId, failures[1].EventId);
        Assert.NotEqual(failures[0].EventId, Nms.Core.Polling.Poller.EventId(Guid.NewGuid(), device.Id, FailureEvent.PollReason));
    }
}
