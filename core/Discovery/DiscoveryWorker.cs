using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Nms.Core.Alerting;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Devices;
using Nms.Core.Plugins;
using Nms.Core.Reachability;
using Npgsql;

namespace Nms.Core.Discovery;

/// <summary>
/// The seed's DiscoveryPool worker: one queue message = one batch. Optionally drops addresses that
/// do not answer ping, runs the plugin once in <c>-discovery</c> mode with the profile's ordered
/// credentials, then provisions what answered and counts the batch in one transaction, guarded by
/// the batch row so a redelivered message changes nothing. A failed probe is a result: nothing
/// here throws for a device's or a plugin's failure, only for infrastructure (database) errors,
/// which the queue retries.
/// </summary>
public sealed partial class DiscoveryWorker(
    NmsDataSources dataSources,
    PluginTargetRunner plugins,
    IReachability reachability,
    DiscoveryOptions options,
    TimeProvider time,
    ILogger<DiscoveryWorker> logger)
{

    public const string NoPingReply = "no reply to ping (pre-check)";
    public const string NoCredentials = "the discovery profile has no credentials";
    public const string NoResult = PluginTargetRunner.NoResult;

    private const int TransactionAttempts = 3;

    private NpgsqlDataSource Db => dataSources.Api;

    public async Task ProcessAsync(DiscoveryBatchMessage batch, CancellationToken cancellationToken)
    {
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["DiscoveryRunId"] = batch.RunId, ["BatchNo"] = batch.BatchNo });
        Activity.Current?.SetTag("nms.batch_no", batch.BatchNo);
        if (await BatchAlreadyCountedAsync(batch, cancellationToken))
        {
            LogDuplicate(batch.RunId, batch.BatchNo);
            return;
        }

        var run = await ReadRunAsync(batch.RunId, cancellationToken);
        if (run is null)
        {
            // The profile (and with it the run) was deleted after the batch was queued.
            LogRunGone(batch.RunId, batch.BatchNo);
            return;
        }

        await MarkRunningAsync(batch.RunId, cancellationToken);
        var addresses = batch.Addresses.Select(Normalise).Distinct(StringComparer.Ordinal).ToList();
        var outcome = await ProbeAsync(batch, run, addresses, cancellationToken);
        var count = await CountAsync(batch, run, outcome, cancellationToken);
        if (count.Duplicate)
        {
            LogDuplicate(batch.RunId, batch.BatchNo);
            return;
        }

        LogFailures(batch, outcome.Failures, count.Run);
        LogBatchDone(batch.RunId, batch.BatchNo, addresses.Count, outcome.Found.Count, count.Provisioned, count.AlreadyKnown, outcome.Failures.Count);
        if (count.Run is { Status: "completed" } totals)
        {
            LogRunCompleted(batch.RunId, totals.Targets, totals.Responded, totals.Provisioned, totals.AlreadyKnown, totals.Failed);
        }
    }

    private async Task<DiscoveryBatchOutcome> ProbeAsync(DiscoveryBatchMessage batch, DiscoveryRunProfile run, List<string> addresses, CancellationToken cancellationToken)
    {
        var failures = new List<DiscoveryFailureSample>();
        var probe = addresses;
        if (run.PingPrecheck)
        {
            var alive = await reachability.SweepAsync(addresses, cancellationToken);
            if (alive is not null)
            {
                probe = addresses.Where(alive.Contains).ToList();
                failures.AddRange(addresses.Where(a => !alive.Contains(a)).Select(a => new DiscoveryFailureSample(a, NoPingReply)));
            }
        }

        if (probe.Count == 0)
        {
            return new DiscoveryBatchOutcome([], failures);
        }

        var credentialIds = await ReadCredentialIdsAsync(run.ProfileId, cancellationToken);
        if (credentialIds.Count == 0)
        {
            failures.AddRange(probe.Select(a => new DiscoveryFailureSample(a, NoCredentials)));
            return new DiscoveryBatchOutcome([], failures);
        }

        var outcomes = await plugins.RunAsync(run.Plugin, PluginContract.DiscoveryMode, run.TimeoutMs,
            probe.Select(ip => new PluginCallTarget(ip, ip, run.Port, credentialIds)).ToList(), cancellationToken);
        var found = new List<DiscoveredDevice>();
        foreach (var outcome in outcomes)
        {
            var ip = outcome.Target.Ip;
            if (outcome.Result is not { } item)
            {
                failures.Add(new DiscoveryFailureSample(ip, outcome.Error!));
                continue;
            }

            // Only a credential of this profile can be recorded; with one credential it is that one.
            var credentialId = item.CredentialId is { } id && credentialIds.Contains(id) ? id
                : credentialIds.Count == 1 ? credentialIds[0] : (long?)null;
            found.Add(new DiscoveredDevice(ip, item.Hostname, item.Description, credentialId, item.HostKey));
        }

        return new DiscoveryBatchOutcome(found, failures);
    }

    /// <summary>
    /// Claims the batch row, provisions the found devices and adds the batch to the run's counters,
    /// all in one transaction: either all of it happens once, or none of it (and the queue retries).
    /// </summary>
    private async Task<DiscoveryBatchCount> CountAsync(DiscoveryBatchMessage batch, DiscoveryRunProfile run, DiscoveryBatchOutcome outcome, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await CountOnceAsync(batch, run, outcome, cancellationToken);
            }
            catch (PostgresException ex) when (attempt < TransactionAttempts && ex.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure)
            {
                LogRetry(batch.RunId, batch.BatchNo, ex.SqlState, attempt);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ForeignKeyViolation)
            {
                // The run or its profile was deleted while the plugin ran: nothing left to count into.
                LogRunGone(batch.RunId, batch.BatchNo);
                return DiscoveryBatchCount.AlreadyCounted;
            }
        }
    }

    private async Task<DiscoveryBatchCount> CountOnceAsync(DiscoveryBatchMessage batch, DiscoveryRunProfile run, DiscoveryBatchOutcome outcome, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await Db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await using (var claim = new NpgsqlCommand(DiscoverySql.ClaimBatch, connection, transaction))
        {
            claim.Parameters.Add(new NpgsqlParameter { Value = batch.RunId });
            claim.Parameters.Add(new NpgsqlParameter { Value = batch.BatchNo });
            claim.Parameters.Add(new NpgsqlParameter { Value = now });
            if (await claim.ExecuteScalarAsync(cancellationToken) is null)
            {
                await transaction.RollbackAsync(cancellationToken);
                return DiscoveryBatchCount.AlreadyCounted;
            }
        }

        var found = outcome.Found
            .Select(d => new DeviceProvision(IPAddress.Parse(d.Ip), run.Port, run.Plugin, run.PollIntervalSeconds, d.CredentialId, run.ProfileId, d.Hostname, d.Description, d.HostKey))
            .ToList();
        var created = await DeviceLifecycle.ProvisionManyAsync(connection, transaction, found, now, cancellationToken);
        await DeviceTagging.TagDiscoveredAsync(connection, transaction, run.ProfileId, created.Select(d => d.DeviceId).ToArray(), cancellationToken);
        var provisioned = created.Count;
        var alreadyKnown = outcome.Found.Count - provisioned;
        DiscoveryRunTotals? totals = null;
        await using (var count = new NpgsqlCommand(DiscoverySql.CountBatch, connection, transaction))
        {
            var sampleSize = Math.Max(0, options.FailureSampleSize);
            count.Parameters.Add(new NpgsqlParameter { Value = batch.RunId });
            count.Parameters.Add(new NpgsqlParameter { Value = outcome.Found.Count });
            count.Parameters.Add(new NpgsqlParameter { Value = provisioned });
            count.Parameters.Add(new NpgsqlParameter { Value = alreadyKnown });
            count.Parameters.Add(new NpgsqlParameter { Value = outcome.Failures.Count });
            count.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(outcome.Failures.Take(sampleSize), NmsJson.Api) });
            count.Parameters.Add(new NpgsqlParameter { Value = sampleSize });
            count.Parameters.Add(new NpgsqlParameter { Value = now });
            await using var reader = await count.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                totals = new DiscoveryRunTotals(reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3), reader.GetInt32(4), reader.GetInt32(5));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return new DiscoveryBatchCount(false, provisioned, alreadyKnown, totals);
    }

    private async Task<bool> BatchAlreadyCountedAsync(DiscoveryBatchMessage batch, CancellationToken cancellationToken)
    {
        await using var command = Db.CreateCommand(DiscoverySql.BatchDone);
        command.Parameters.Add(new NpgsqlParameter { Value = batch.RunId });
        command.Parameters.Add(new NpgsqlParameter { Value = batch.BatchNo });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private async Task<DiscoveryRunProfile?> ReadRunAsync(Guid runId, CancellationToken cancellationToken)
    {
        await using var command = Db.CreateCommand(DiscoverySql.SelectRunForWorker);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new DiscoveryRunProfile(reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3),
            reader.GetBoolean(4), reader.GetInt32(5), reader.GetInt32(6));
    }

    private async Task MarkRunningAsync(Guid runId, CancellationToken cancellationToken)
    {
        await using var command = Db.CreateCommand(DiscoverySql.MarkRunning);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        command.Parameters.Add(new NpgsqlParameter { Value = time.GetUtcNow() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The profile's credentials in the order the plugin tries them.</summary>
    private async Task<IReadOnlyList<long>> ReadCredentialIdsAsync(long profileId, CancellationToken cancellationToken)
    {
        var ids = new List<long>();
        await using var command = Db.CreateCommand(DiscoverySql.SelectProfileCredentialIds);
        command.Parameters.Add(new NpgsqlParameter { Value = profileId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    /// <summary>
    /// The run's first failures (as many as it keeps samples of) at Information, one line each; every
    /// later one at Debug only. A /16 of silence logs a few lines, not 65,000; its totals are in the run.
    /// </summary>
    private void LogFailures(DiscoveryBatchMessage batch, IReadOnlyList<DiscoveryFailureSample> failures, DiscoveryRunTotals? run)
    {
        var before = run is null ? 0 : run.Failed - failures.Count;
        for (var i = 0; i < failures.Count; i++)
        {
            if (before + i < options.FailureSampleSize)
            {
                LogTargetFailed(batch.RunId, batch.BatchNo, failures[i].Ip, failures[i].Error);
            }
            else
            {
                LogTargetFailedDebug(batch.RunId, batch.BatchNo, failures[i].Ip, failures[i].Error);
            }
        }
    }

    private static string Normalise(string address) =>
        IPAddress.TryParse(address.Trim(), out var parsed) ? parsed.ToString() : address.Trim();

    [LoggerMessage(Level = LogLevel.Information, Message = "Discovery run {RunId} batch {BatchNo}: {Address} did not become a device: {Error}")]
    private partial void LogTargetFailed(Guid runId, int batchNo, string address, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Discovery run {RunId} batch {BatchNo}: {Address} did not become a device: {Error}")]
    private partial void LogTargetFailedDebug(Guid runId, int batchNo, string address, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Discovery run {RunId} batch {BatchNo}: {Targets} targets, {Responded} responded, {Provisioned} provisioned, {AlreadyKnown} already known, {Failed} failed")]
    private partial void LogBatchDone(Guid runId, int batchNo, int targets, int responded, int provisioned, int alreadyKnown, int failed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Discovery run {RunId} batch {BatchNo} was already counted; this delivery changes nothing")]
    private partial void LogDuplicate(Guid runId, int batchNo);

    [LoggerMessage(Level = LogLevel.Information, Message = "Discovery run {RunId} no longer exists; batch {BatchNo} dropped")]
    private partial void LogRunGone(Guid runId, int batchNo);

    [LoggerMessage(Level = LogLevel.Information, Message = "Discovery run {RunId} completed: {Targets} targets, {Responded} responded, {Provisioned} provisioned, {AlreadyKnown} already known, {Failed} failed")]
    private partial void LogRunCompleted(Guid runId, int targets, int responded, int provisioned, int alreadyKnown, int failed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Discovery run {RunId} batch {BatchNo}: transaction failed with {SqlState} (attempt {Attempt}); retrying")]
    private partial void LogRetry(Guid runId, int batchNo, string sqlState, int attempt);
}
