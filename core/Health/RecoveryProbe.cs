using Microsoft.Extensions.Logging;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Devices;
using Nms.Core.Plugins;
using Nms.Core.Reachability;
using Npgsql;

namespace Nms.Core.Health;

/// <summary>What one run of the recovery probe did.</summary>
public sealed record RecoveryRunResult(bool Enabled, int Probed, int Reactivated, IReadOnlyList<long> ReactivatedIds)
{
    public static RecoveryRunResult Disabled { get; } = new(false, 0, 0, []);
}

/// <summary>
/// Re-checks devices the health consumer deactivated, each on its own backoff, and reactivates the
/// ones that answer: ping first (cheap), then the plugin's discovery call with the device's own
/// credential (a poll for devices with a recorded SSH host key, see <see cref="ProbeMode(string?)"/>). Claiming pushes a device's next probe to its next backoff step before anything is
/// sent, in a short transaction with SKIP LOCKED, so concurrent runs never probe one device twice
/// and a crash mid-probe only delays it. Reactivation is conditional on the device still being in
/// the deactivation that was claimed (an operator's change in between wins), resets the counters,
/// records why, and puts the device back into poll_schedule in the same transaction.
/// </summary>
public sealed partial class RecoveryProbe(
    NmsDataSources dataSources,
    PluginTargetRunner plugins,
    IReachability reachability,
    HealthOptions options,
    HealthRecoveryOptions recovery,
    TimeProvider time,
    ILogger<RecoveryProbe> logger)
{
    public async Task<RecoveryRunResult> RunAsync(CancellationToken cancellationToken)
    {
        if (!options.RecoveryProbeEnabled)
        {
            return RecoveryRunResult.Disabled;
        }

        var claimed = await ClaimAsync(cancellationToken);
        if (claimed.Count == 0)
        {
            return new RecoveryRunResult(true, 0, 0, []);
        }

        var unreachable = await reachability.UnreachableAsync(
            claimed.Select(d => new ReachabilityTarget(d.Id, d.Ip, d.Port, d.Plugin)).ToList(), cancellationToken);
        var verdicts = new List<(ProbeCandidate Device, string? Error, string? Reason)>();
        foreach (var device in claimed.Where(d => unreachable.Contains(d.Id)))
        {
            verdicts.Add((device, reachability.Mode == ReachabilityChecker.IcmpMode ? "no answer to ping" : $"no answer to {reachability.Mode} connect", null));
        }

        foreach (var group in claimed.Where(d => !unreachable.Contains(d.Id)).GroupBy(d => (d.Plugin, Mode: ProbeMode(d))))
        {
            verdicts.AddRange(await AskPluginAsync(group.Key.Plugin, group.Key.Mode, group.ToList(), cancellationToken));
        }

        var reactivated = new List<long>();
        foreach (var (device, error, reason) in verdicts)
        {
            if (reason is not null && await ReactivateAsync(device, reason, cancellationToken))
            {
                reactivated.Add(device.Id);
            }
            else if (error is not null)
            {
                await RecordProbeFailureAsync(device, error, cancellationToken);
            }
        }

        return new RecoveryRunResult(true, claimed.Count, reactivated.Count, reactivated);
    }

    private async Task<IReadOnlyList<ProbeCandidate>> ClaimAsync(CancellationToken cancellationToken)
    {
        var now = HealthMonitor.Microseconds(time.GetUtcNow());
        await using var connection = await dataSources.Api.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var claimed = new List<ProbeCandidate>();
        await using (var select = new NpgsqlCommand(HealthSql.ClaimDueProbes, connection, transaction))
        {
            select.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
            select.Parameters.Add(new NpgsqlParameter<int> { TypedValue = Math.Clamp(recovery.RecoveryBatchSize, 1, 1_000) });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                claimed.Add(new ProbeCandidate(
                    reader.GetInt64(0),
                    reader.GetString(1),
                    reader.GetInt32(2),
                    reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetInt64(4),
                    reader.IsDBNull(5) ? null : reader.GetString(5),
                    reader.GetInt32(6),
                    reader.GetFieldValue<DateTimeOffset>(7)));
            }
        }

        if (claimed.Count > 0)
        {
            // The probe about to run is attempt n+1; if it fails, the next one waits base·2^(n+1), capped.
            var attempts = claimed.Select(d => d.Attempts + 1).ToArray();
            var probes = claimed.Zip(attempts, (d, a) => (d.Id, a, now + RecoveryBackoff.Delay(a, HealthMonitor.BaseDelay(recovery), HealthMonitor.CapDelay(recovery)))).ToList();
            await DeviceLifecycle.ScheduleNextProbesAsync(connection, transaction, probes, now, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return claimed;
    }

    /// <summary>
    /// Discovery, the light call, for devices without a recorded host key (SNMP). A device with one
    /// (SSH) is asked with a poll instead: the ssh plugin's discovery accepts any host key and would
    /// hand the device's credential to whatever answers at the address now; its poll refuses a key
    /// other than the recorded one before authenticating.
    /// </summary>
    internal static string ProbeMode(string? hostKey) => hostKey is null ? PluginContract.DiscoveryMode : PluginContract.PollMode;

    private static string ProbeMode(ProbeCandidate device) => ProbeMode(device.HostKey);

    private async Task<IEnumerable<(ProbeCandidate, string?, string?)>> AskPluginAsync(
        string plugin, string mode, IReadOnlyList<ProbeCandidate> devices, CancellationToken cancellationToken)
    {
        // Discovery tries a list of credentials, poll uses the device's one: the device's own credential either way.
        var outcomes = await plugins.RunAsync(plugin, mode, Math.Clamp(recovery.RecoveryProbeTimeoutMilliseconds, 100, 60_000), devices.Select(d => new PluginCallTarget(
            PluginCallTarget.IdOf(d.Id), d.Ip, d.Port, d.CredentialId is { } id ? [id] : [], d.HostKey)).ToList(), cancellationToken);
        return devices.Zip(outcomes, (device, outcome) => Judge(plugin, mode, device, outcome));
    }

    private (ProbeCandidate, string?, string?) Judge(string plugin, string mode, ProbeCandidate device, PluginOutcome outcome)
    {
        if (outcome.Result is not { } result)
        {
            return (device, outcome.Error == PluginTargetRunner.CredentialsUnreadable ? outcome.Error : HealthMonitor.Truncate($"{plugin} {mode}: {outcome.Error}"), null);
        }

        if (device.HostKey is not null && result.HostKey is not null && !string.Equals(device.HostKey, result.HostKey, StringComparison.Ordinal))
        {
            // Another machine may hold the address now: never hand it the device's credential unattended.
            return (device, $"{plugin} {mode} answered with a different host key; an operator must reactivate", null);
        }

        var via = reachability.Mode == ReachabilityChecker.IcmpMode ? $"answered ping and {plugin} {mode}" : $"answered {plugin} {mode}";
        var hostname = string.IsNullOrWhiteSpace(result.Hostname) ? "" : $" as '{result.Hostname}'";
        return (device, null, HealthMonitor.Truncate($"recovery probe: {via}{hostname} after {device.Attempts + 1} probe(s)"));
    }

    private async Task<bool> ReactivateAsync(ProbeCandidate device, string reason, CancellationToken cancellationToken)
    {
        var now = HealthMonitor.Microseconds(time.GetUtcNow());
        await using var connection = await dataSources.Api.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (!await DeviceLifecycle.ReactivateByProbeAsync(connection, transaction, device.Id, device.DeactivatedAt, reason, now, cancellationToken))
        {
            // Deleted, reactivated by an operator, or deactivated anew since the claim.
            await transaction.RollbackAsync(cancellationToken);
            return false;
        }

        await HealthMonitor.LogTransitionAsync(connection, transaction, device.Id, "reactivated", reason, null, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        LogReactivated(device.Id, $"{device.Ip}:{device.Port}", reason);
        return true;
    }

    private async Task RecordProbeFailureAsync(ProbeCandidate device, string error, CancellationToken cancellationToken)
    {
        await using var connection = await dataSources.Api.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await DeviceLifecycle.RecordProbeFailureAsync(connection, transaction, device.Id, device.DeactivatedAt, error, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        LogStillDown(device.Id, device.Attempts + 1, error);
    }

    private sealed record ProbeCandidate(long Id, string Ip, int Port, string Plugin, long? CredentialId, string? HostKey, int Attempts, DateTimeOffset DeactivatedAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {DeviceId} ({Device}) reactivated: {Reason}")]
    private partial void LogReactivated(long deviceId, string device, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Device {DeviceId} still down after recovery probe {Attempt}: {Error}")]
    private partial void LogStillDown(long deviceId, int attempt, string error);
}
