using Microsoft.Extensions.Logging;
using Moq;
using Nms.Core.Configuration;
using Nms.Core.Credentials;
using Nms.Core.Health;
using Nms.Core.Plugins;
using Nms.Core.Reachability;
using Nms.Plugins.Sdk;

namespace Nms.Tests.Health;

/// <summary>
/// The recovery probe's decisions with the plugin processes and reachability as mocks, over real PostgreSQL:
/// which devices are asked, through which plugin and mode, and how often. <see cref="RecoveryProbeTests"/>
/// covers backoff, reactivation and host keys; <see cref="HealthEndToEndTests"/> the real agent.
/// </summary>
public sealed class RecoveryProbeOrchestrationTests : IAsyncLifetime
{
    private readonly Mock<IPluginRunner> plugins = new(MockBehavior.Strict);
    private readonly Mock<IReachability> reachability = new(MockBehavior.Strict);
    private HealthFixture fx = null!;

    public async Task InitializeAsync()
    {
        fx = await HealthFixture.CreateAsync();
        fx.Options.RecoveryProbeEnabled = true;
        reachability.SetupGet(r => r.Mode).Returns(ReachabilityChecker.IcmpMode);
        plugins.Setup(p => p.RunAsync(It.IsAny<string>(), It.IsAny<PluginRequest>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string _, PluginRequest request, CancellationToken _) => new PluginRunResult(
                new PluginResponse(PluginContract.Version, request.Targets.Select(t => PluginResult.Fail(t.Id, "timeout")).ToList()), null, TimeSpan.Zero));
    }

    public async Task DisposeAsync() => await fx.DisposeAsync();

    [Fact]
    public async Task A_device_silent_to_ping_is_never_handed_to_a_plugin_and_each_plugin_and_mode_runs_once()
    {
        var snmpUp = await DeactivatedAsync("snmp");
        var snmpAlsoUp = await DeactivatedAsync("snmp");
        var snmpDown = await DeactivatedAsync("snmp");
        var ssh = await DeactivatedAsync("ssh", hostKey: "ssh-ed25519 AAAArecorded");
        Unreachable(snmpDown);
        fx.Time.Advance(TimeSpan.FromSeconds(fx.Recovery.RecoveryBackoffBaseSeconds));

        var result = await Probe().RunAsync(CancellationToken.None);

        Assert.Equal(4, result.Probed);
        plugins.Verify(p => p.RunAsync("snmp", It.Is<PluginRequest>(r => r.Mode == PluginContract.DiscoveryMode
            && r.Targets.Select(t => t.Id).Order().SequenceEqual(new[] { snmpUp.ToString(), snmpAlsoUp.ToString() }.Order())), It.IsAny<CancellationToken>()), Times.Once);
        plugins.Verify(p => p.RunAsync("ssh", It.Is<PluginRequest>(r => r.Mode == PluginContract.PollMode && r.Targets.Single().Id == ssh.ToString()), It.IsAny<CancellationToken>()), Times.Once);
        plugins.Verify(p => p.RunAsync(It.IsAny<string>(), It.IsAny<PluginRequest>(), It.IsAny<CancellationToken>()), Times.Exactly(2));
        Assert.Equal("no answer to ping", (await fx.ReadAsync(snmpDown)).RecoveryLastError);
    }

    [Fact]
    public async Task Nothing_is_probed_before_a_device_s_backoff_is_over()
    {
        await DeactivatedAsync("snmp");
        Unreachable();

        var result = await Probe().RunAsync(CancellationToken.None);

        Assert.Equal(0, result.Probed);
        reachability.Verify(r => r.UnreachableAsync(It.IsAny<IReadOnlyList<ReachabilityTarget>>(), It.IsAny<CancellationToken>()), Times.Never);
        plugins.Verify(p => p.RunAsync(It.IsAny<string>(), It.IsAny<PluginRequest>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    private RecoveryProbe Probe()
    {
        var crypto = new CryptoOptions { ActiveKeyId = "k1", Keys = { ["k1"] = Convert.ToBase64String(new byte[32]) } };
        var runner = new PluginTargetRunner(plugins.Object, new CredentialReader(fx.Database.DataSource, new SecretSealer(crypto)), fx.Loggers.CreateLogger<PluginTargetRunner>());
        return new RecoveryProbe(fx.DataSources, runner, reachability.Object, fx.Options, fx.Recovery, fx.Time, fx.Loggers.CreateLogger<RecoveryProbe>());
    }

    private void Unreachable(params long[] ids) =>
        reachability.Setup(r => r.UnreachableAsync(It.IsAny<IReadOnlyList<ReachabilityTarget>>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(ids.ToHashSet());

    private async Task<long> DeactivatedAsync(string plugin, string? hostKey = null)
    {
        var device = await fx.AddDeviceAsync(threshold: 1, plugin: plugin, port: plugin == "ssh" ? 22 : 161, hostKey: hostKey);
        Assert.Equal(FailureOutcome.Deactivated, await fx.Monitor().RecordFailureAsync(fx.Failure(device, fx.Time.GetUtcNow(), FailureEvent.PingReason, "no reply"), default));
        return device;
    }
}
