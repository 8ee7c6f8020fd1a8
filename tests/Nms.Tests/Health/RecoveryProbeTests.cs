using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Nms.Core.Configuration;
using Nms.Core.Credentials;
using Nms.Core.Entities;
using Nms.Core.Health;
using Nms.Core.Plugins;
using Nms.Core.Reachability;
using Nms.Plugins.Sdk;
using Nms.Tests.Infrastructure;
using Npgsql;

namespace Nms.Tests.Health;

/// <summary>
/// The recovery probe against real PostgreSQL, with the two seams that reach the network stubbed:
/// ping and the plugin process (the local-host tests run the real ones).
/// </summary>
public sealed class RecoveryProbeTests : IAsyncLifetime
{
    private readonly StubPinger pinger = new();
    private readonly StubPlugins plugins = new();
    private HealthFixture fx = null!;
    private CredentialReader credentials = null!;

    public async Task InitializeAsync()
    {
        fx = await HealthFixture.CreateAsync();
        fx.Options.RecoveryProbeEnabled = true;
        var crypto = new CryptoOptions { ActiveKeyId = "k1" };
        crypto.Keys["k1"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        credentials = new CredentialReader(fx.Database.DataSource, new SecretSealer(crypto));
    }

    public async Task DisposeAsync() => await fx.DisposeAsync();

    private RecoveryProbe Probe() =>
        new(fx.DataSources, new PluginTargetRunner(plugins, credentials, fx.Loggers.CreateLogger<PluginTargetRunner>()), pinger, fx.Options, fx.Recovery, fx.Time, fx.Loggers.CreateLogger<RecoveryProbe>());

    private TimeSpan Base => TimeSpan.FromSeconds(fx.Recovery.RecoveryBackoffBaseSeconds);

    /// <summary>A device the consumer deactivated at the fake clock's now.</summary>
    private async Task<long> DeactivatedDeviceAsync(long? credentialId = null, string? hostKey = null, string plugin = "snmp")
    {
        var device = await fx.AddDeviceAsync(threshold: 1, credentialId: credentialId, hostKey: hostKey, plugin: plugin);
        Assert.Equal(FailureOutcome.Deactivated, await fx.Monitor().RecordFailureAsync(fx.Failure(device, fx.Time.GetUtcNow(), FailureEvent.PingReason, "no reply"), default));
        return device;
    }

    private async Task<long> CredentialAsync(string community)
    {
        var sealedSecret = credentials.Seal(new CredentialSecretFields(Community: community));
        await using var command = fx.Database.DataSource.CreateCommand("""
            INSERT INTO credential_profiles (name, protocol, settings, secret_ciphertext, secret_key_id, created_at, updated_at)
            VALUES ($1, 'snmp_v2c', '{}', $2, $3, $4, $4) RETURNING id
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = "c-" + Guid.NewGuid().ToString("N") });
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = sealedSecret.Ciphertext });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sealedSecret.KeyId });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = fx.Time.GetUtcNow() });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Probe_switched_off_touches_nothing()
    {
        fx.Options.RecoveryProbeEnabled = false;
        var device = await DeactivatedDeviceAsync();
        fx.Time.Advance(TimeSpan.FromDays(1));

        var result = await Probe().RunAsync(default);

        Assert.False(result.Enabled);
        Assert.Empty(plugins.Requests);
        Assert.Equal(("inactive", 0), ((await fx.ReadAsync(device)).Status, (await fx.ReadAsync(device)).RecoveryAttempts));
    }

    [Fact]
    public async Task Device_is_not_probed_before_its_first_backoff_has_passed()
    {
        await DeactivatedDeviceAsync();
        fx.Time.Advance(Base - TimeSpan.FromSeconds(1));

        var result = await Probe().RunAsync(default);

        Assert.Equal(0, result.Probed);
        Assert.Empty(plugins.Requests);
    }

    [Fact]
    public async Task Answering_device_is_reactivated_rescheduled_and_told_why_in_one_go()
    {
        var credential = await CredentialAsync("s3cret-community");
        var device = await DeactivatedDeviceAsync(credentialId: credential, hostKey: null);
        fx.Time.Advance(Base);
        plugins.Answer = target => new PluginResult(target.Id, true, Hostname: "core-sw1");

        var result = await Probe().RunAsync(default);

        Assert.Equal([device], result.ReactivatedIds);
        var request = Assert.Single(plugins.Requests);
        Assert.Equal(("snmp", PluginContract.DiscoveryMode), (request.Plugin, request.Request.Mode));
        var target = Assert.Single(request.Request.Targets);
        Assert.Equal("s3cret-community", target.Credential?.Community);
        Assert.Equal("s3cret-community", Assert.Single(target.Credentials!).Community);
        var row = await fx.ReadAsync(device);
        Assert.Equal(("active", 0, true, 0), (row.Status, row.FailureCount, row.Scheduled, row.RecoveryAttempts));
        Assert.Null(row.DeactivatedAt);
        Assert.Null(row.LastFailureAt);
        Assert.Null(row.NextProbeAt);
        Assert.Contains("answered ping and snmp discovery as 'core-sw1'", row.ReactivationReason, StringComparison.Ordinal);
        Assert.Equal(fx.Time.GetUtcNow().UtcDateTime, await fx.Database.ScalarAsync<DateTime>("SELECT next_due_at FROM poll_schedule WHERE device_id = $1", device));
        Assert.Equal(1, await fx.TransitionsAsync(device, "reactivated"));
        Assert.DoesNotContain("s3cret", fx.Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Device_silent_to_ping_is_not_asked_through_its_plugin_and_backs_off()
    {
        var device = await DeactivatedDeviceAsync();
        var deviceIp = await fx.Database.ScalarAsync<string>("SELECT host(ip) FROM devices WHERE id = $1", device);
        pinger.Down.Add(deviceIp);
        fx.Time.Advance(Base);

        await Probe().RunAsync(default);

        Assert.Empty(plugins.Requests);
        var row = await fx.ReadAsync(device);
        Assert.Equal(("inactive", 1, "no answer to ping"), (row.Status, row.RecoveryAttempts, row.RecoveryLastError));
        Assert.Equal(fx.Time.GetUtcNow() + 2 * Base, row.NextProbeAt);
    }

    [Fact]
    public async Task Failed_probes_double_the_gap_up_to_the_cap()
    {
        fx.Recovery.RecoveryBackoffCapSeconds = 300;
        var device = await DeactivatedDeviceAsync();
        plugins.Answer = target => new PluginResult(target.Id, false, Error: "timeout");
        var gaps = new List<TimeSpan>();
        var now = fx.Time.GetUtcNow();

        for (var i = 0; i < 5; i++)
        {
            var next = (await fx.ReadAsync(device)).NextProbeAt!.Value;
            gaps.Add(next - now);
            fx.Time.SetUtcNow(next);
            now = next;
            Assert.Equal(1, (await Probe().RunAsync(default)).Probed);
        }

        Assert.Equal([60, 120, 240, 300, 300], gaps.Select(g => (int)g.TotalSeconds));
        var row = await fx.ReadAsync(device);
        Assert.Equal(("inactive", 5), (row.Status, row.RecoveryAttempts));
        Assert.Equal("snmp discovery: timeout", row.RecoveryLastError);
        Assert.Equal(5, plugins.Requests.Count);
    }

    [Fact]
    public async Task Plugin_that_fails_as_a_whole_leaves_the_devices_inactive()
    {
        var device = await DeactivatedDeviceAsync();
        fx.Time.Advance(Base);
        plugins.WholeRunError = "plugin 'snmp' is not installed";

        await Probe().RunAsync(default);

        var row = await fx.ReadAsync(device);
        Assert.Equal("inactive", row.Status);
        Assert.Contains("not installed", row.RecoveryLastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Credential_sealed_under_a_key_no_longer_configured_leaves_the_device_down_and_the_plugin_unasked()
    {
        var credential = await CredentialAsync("public");
        await fx.Database.ExecuteAsync("UPDATE credential_profiles SET secret_key_id = 'retired' WHERE id = $1", credential);
        var device = await DeactivatedDeviceAsync(credentialId: credential);
        fx.Time.Advance(Base);

        await Probe().RunAsync(default);

        Assert.Empty(plugins.Requests);
        var row = await fx.ReadAsync(device);
        Assert.Equal(("inactive", "credentials could not be read"), (row.Status, row.RecoveryLastError));
    }

    [Fact]
    public async Task Device_answering_with_another_host_key_stays_inactive()
    {
        var device = await DeactivatedDeviceAsync(hostKey: "ssh-ed25519 AAAAoriginal", plugin: "ssh");
        fx.Time.Advance(Base);
        plugins.Answer = target => new PluginResult(target.Id, true, Hostname: "imposter", HostKey: "ssh-ed25519 AAAAother");

        await Probe().RunAsync(default);

        var row = await fx.ReadAsync(device);
        Assert.Equal("inactive", row.Status);
        Assert.Equal("ssh poll answered with a different host key; an operator must reactivate", row.RecoveryLastError);
        var request = Assert.Single(plugins.Requests).Request;
        Assert.Equal(PluginContract.PollMode, request.Mode);
        Assert.Equal("ssh-ed25519 AAAAoriginal", request.Targets[0].HostKey);
    }

    [Fact]
    public async Task Devices_an_operator_reactivated_or_deactivated_by_hand_are_left_alone()
    {
        var reactivated = await DeactivatedDeviceAsync();
        await fx.OperatorReactivatesAsync(reactivated);
        // Deactivated by the consumer, reactivated and then deactivated by hand: its old next probe time is still set.
        var manual = await DeactivatedDeviceAsync();
        await fx.OperatorReactivatesAsync(manual);
        await fx.Database.DataSource.DeactivateByOperatorAsync(manual, now: fx.Time.GetUtcNow());
        fx.Time.Advance(TimeSpan.FromDays(1));
        plugins.Answer = target => new PluginResult(target.Id, true);

        var result = await Probe().RunAsync(default);

        Assert.Equal(0, result.Probed);
        Assert.Equal("inactive", (await fx.ReadAsync(manual)).Status);
    }

    [Fact]
    public async Task Operator_change_during_the_probe_wins_over_the_probe()
    {
        var device = await DeactivatedDeviceAsync();
        fx.Time.Advance(Base);
        plugins.Answer = target => new PluginResult(target.Id, true);
        plugins.WhileRunning = () => fx.OperatorReactivatesAsync(device);

        var result = await Probe().RunAsync(default);

        Assert.Empty(result.ReactivatedIds);
        var row = await fx.ReadAsync(device);
        Assert.Equal(("active", true), (row.Status, row.Scheduled));
        Assert.Null(row.ReactivationReason);
        Assert.Equal(0, await fx.TransitionsAsync(device, "reactivated"));
    }

    [Fact]
    public async Task Concurrent_runs_probe_each_due_device_once()
    {
        var devices = new List<long>();
        for (var i = 0; i < 20; i++)
        {
            devices.Add(await DeactivatedDeviceAsync());
        }

        fx.Time.Advance(Base);
        fx.Recovery.RecoveryBatchSize = 7;
        plugins.Answer = target => new PluginResult(target.Id, false, Error: "still down");

        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => Probe().RunAsync(default))));

        var probedIds = plugins.Requests.SelectMany(r => r.Request.Targets).Select(t => long.Parse(t.Id, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(devices.Order(), probedIds.Order());
    }

    [Fact]
    public async Task Reactivated_device_counts_failures_afresh_and_can_be_deactivated_again()
    {
        var device = await DeactivatedDeviceAsync();
        fx.Time.Advance(Base);
        plugins.Answer = target => new PluginResult(target.Id, true);
        await Probe().RunAsync(default);
        fx.Time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(FailureOutcome.Deactivated, await fx.Monitor().RecordFailureAsync(fx.Failure(device, fx.Time.GetUtcNow()), default));

        var row = await fx.ReadAsync(device);
        Assert.Equal(("inactive", 1, 0), (row.Status, row.FailureCount, row.RecoveryAttempts));
        Assert.Equal(fx.Time.GetUtcNow() + Base, row.NextProbeAt);
        Assert.Equal(2, await fx.TransitionsAsync(device, "deactivated"));
    }

    [Fact]
    public async Task Late_failure_from_before_the_probe_reactivated_the_device_is_ignored()
    {
        var device = await DeactivatedDeviceAsync();
        var duringOutage = fx.Time.GetUtcNow() + TimeSpan.FromSeconds(30);
        fx.Time.Advance(Base);
        plugins.Answer = target => new PluginResult(target.Id, true);
        await Probe().RunAsync(default);

        var outcome = await fx.Monitor().RecordFailureAsync(fx.Failure(device, duringOutage), default);

        Assert.Equal(FailureOutcome.IgnoredStale, outcome);
        Assert.Equal(("active", 0), ((await fx.ReadAsync(device)).Status, (await fx.ReadAsync(device)).FailureCount));
    }

    /// <summary>ICMP reachability in which the test decides which addresses are down.</summary>
    private sealed class StubPinger : IReachability
    {
        public HashSet<string> Down { get; } = [];

        public string Mode => ReachabilityChecker.IcmpMode;

        public Task<IReadOnlySet<long>> UnreachableAsync(IReadOnlyList<ReachabilityTarget> targets, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlySet<long>>(targets.Where(t => Down.Contains(t.Ip)).Select(t => t.Key).ToHashSet());

        public Task<IReadOnlySet<string>?> SweepAsync(IReadOnlyList<string> addresses, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlySet<string>?>(addresses.Where(a => !Down.Contains(a)).ToHashSet());
    }

    private sealed class StubPlugins : IPluginRunner
    {
        public ConcurrentQueue<(string Plugin, PluginRequest Request)> Requests { get; } = new();

        public Func<PluginTarget, PluginResult> Answer { get; set; } = target => new PluginResult(target.Id, false, Error: "no answer");

        public string? WholeRunError { get; set; }

        public Func<Task>? WhileRunning { get; set; }

        public async Task<PluginRunResult> RunAsync(string plugin, PluginRequest request, CancellationToken cancellationToken)
        {
            Requests.Enqueue((plugin, request));
            if (WhileRunning is not null)
            {
                await WhileRunning();
            }

            return WholeRunError is not null
                ? new PluginRunResult(null, WholeRunError, TimeSpan.Zero)
                : new PluginRunResult(new PluginResponse(PluginContract.Version, request.Targets.Select(Answer).ToList()), null, TimeSpan.Zero);
        }

        public IReadOnlyList<string> InstalledPlugins() => ["snmp", "ssh"];
    }
}
