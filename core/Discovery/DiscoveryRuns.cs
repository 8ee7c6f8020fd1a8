using System.Text.Json;
using Microsoft.Extensions.Logging;
using Nms.Core.Api;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Plugins;
using Nms.Core.Queues;
using Npgsql;

namespace Nms.Core.Discovery;

/// <summary>
/// The seed's DiscoveryService, API side: validates a profile at run time, writes the run row with
/// its batch count, then puts the batches on the <c>discovery</c> queue; and reads runs back.
/// </summary>
public sealed partial class DiscoveryRuns(
    NmsDataSources dataSources,
    IQueueSender queues,
    QueueNames queueNames,
    DiscoveryOptions options,
    IPluginRunner plugins,
    TimeProvider time,
    ILogger<DiscoveryRuns> logger)
{
    /// <summary>A queue message is at most 64 KiB of Base64; 2,000 addresses stay well under that.</summary>
    public const int MaxBatchSize = 2_000;

    public const int DefaultRunsListed = 50;
    public const int MaxRunsListed = 200;

    /// <summary>Batches sent at once: a /16 is 1,024 messages.</summary>
    public const int EnqueueParallelism = 16;

    private NpgsqlDataSource Db => dataSources.Api;

    public int BatchSize => Math.Clamp(options.BatchSize, 1, MaxBatchSize);

    /// <summary>Starts a run of <paramref name="profileId"/>: 404 unknown profile, 409 no credentials or plugin missing, 400 bad or oversized target.</summary>
    public async Task<DiscoveryRunView> StartAsync(long profileId, CancellationToken cancellationToken)
    {
        var (target, plugin) = await ReadProfileAsync(profileId, cancellationToken);
        if (!plugins.InstalledPlugins().Contains(plugin, StringComparer.Ordinal))
        {
            throw ProblemException.Conflict($"Discovery profile {profileId} uses plugin '{plugin}', which is not installed.");
        }

        var credentialCount = 0;
        await using (var command = Db.CreateCommand(DiscoverySql.SelectProfileCredentialIds))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = profileId });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                credentialCount++;
            }
        }

        if (credentialCount == 0)
        {
            throw ProblemException.Conflict($"Discovery profile {profileId} has no credentials (they were removed); give it at least one credential profile before running it.");
        }

        // Validated again at run time: the profile may predate a lower cap, or have been written by hand.
        var parsed = DiscoveryTarget.Parse(target, options.MaxAddressesPerRun);
        var batchSize = BatchSize;
        var batchCount = (int)((parsed.Count + batchSize - 1) / batchSize);
        var runId = Guid.CreateVersion7(time.GetUtcNow());
        await using (var command = Db.CreateCommand(DiscoverySql.InsertRun))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = runId });
            command.Parameters.Add(new NpgsqlParameter { Value = profileId });
            command.Parameters.Add(new NpgsqlParameter { Value = (int)parsed.Count });
            command.Parameters.Add(new NpgsqlParameter { Value = batchCount });
            command.Parameters.Add(new NpgsqlParameter { Value = time.GetUtcNow() });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        LogRunStarted(runId, profileId, parsed.Count, batchCount);
        await EnqueueAsync(runId, profileId, parsed, batchSize, cancellationToken);
        return await GetAsync(runId, CancellationToken.None);
    }

    public async Task<DiscoveryRunView> GetAsync(Guid runId, CancellationToken cancellationToken)
    {
        await using var command = Db.CreateCommand(DiscoverySql.SelectRun);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? ReadRun(reader)
            : throw ProblemException.NotFound($"Discovery run {runId} does not exist.");
    }

    /// <summary>Runs of a profile, newest first; 404 when the profile does not exist.</summary>
    public async Task<IReadOnlyList<DiscoveryRunView>> ListAsync(long profileId, int limit, CancellationToken cancellationToken)
    {
        await using (var exists = Db.CreateCommand(DiscoverySql.ProfileExists))
        {
            exists.Parameters.Add(new NpgsqlParameter { Value = profileId });
            if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
            {
                throw ProblemException.NotFound($"Discovery profile {profileId} does not exist.");
            }
        }

        return await ListRunsAsync(DiscoverySql.SelectRunsOfProfile, profileId, limit, cancellationToken);
    }

    /// <summary>Runs of every profile, newest first; only the unfinished ones when <paramref name="inProgressOnly"/>.</summary>
    public async Task<IReadOnlyList<DiscoveryRunView>> ListRecentAsync(bool inProgressOnly, int limit, CancellationToken cancellationToken) =>
        await ListRunsAsync(DiscoverySql.SelectRecentRuns, inProgressOnly, limit, cancellationToken);

    /// <summary>Runs by a query whose $1 is <paramref name="filter"/> and $2 the limit.</summary>
    private async Task<IReadOnlyList<DiscoveryRunView>> ListRunsAsync(string sql, object filter, int limit, CancellationToken cancellationToken)
    {
        await using var command = Db.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter { Value = filter });
        command.Parameters.Add(new NpgsqlParameter { Value = Math.Clamp(limit, 1, MaxRunsListed) });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var runs = new List<DiscoveryRunView>();
        while (await reader.ReadAsync(cancellationToken))
        {
            runs.Add(ReadRun(reader));
        }

        return runs;
    }

    private async Task<(string Target, string Plugin)> ReadProfileAsync(long profileId, CancellationToken cancellationToken)
    {
        await using var command = Db.CreateCommand(DiscoverySql.SelectProfile);
        command.Parameters.Add(new NpgsqlParameter { Value = profileId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw ProblemException.NotFound($"Discovery profile {profileId} does not exist.");
        }

        return (reader.GetString(1), reader.GetString(3));
    }

    /// <summary>
    /// Sends every batch with bounded parallelism. A batch that cannot be sent leaves the run's
    /// total and its targets count as failed, so the run still completes instead of hanging in
    /// "running" forever.
    /// </summary>
    private async Task EnqueueAsync(Guid runId, long profileId, DiscoveryTarget target, int batchSize, CancellationToken cancellationToken)
    {
        var unsentBatches = 0;
        var unsentTargets = 0;
        string? firstError = null;
        var traceParent = System.Diagnostics.Activity.Current?.Id;
        var batches = target.Addresses()
            .Select(address => address.ToString())
            .Chunk(batchSize)
            .Select((addresses, index) => new DiscoveryBatchMessage(runId, index, profileId, addresses, traceParent));
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = EnqueueParallelism };
        await Parallel.ForEachAsync(batches, parallel, async (batch, _) =>
        {
            try
            {
                await queues.SendAsync(queueNames.Discovery, batch, cancellationToken);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Interlocked.Increment(ref unsentBatches);
                Interlocked.Add(ref unsentTargets, batch.Addresses.Count);
                Interlocked.CompareExchange(ref firstError, ex.Message, null);
            }
        });

        if (unsentBatches == 0)
        {
            return;
        }

        LogEnqueueFailed(runId, unsentBatches, unsentTargets, firstError);
        var sample = JsonSerializer.Serialize(new[] { new DiscoveryFailureSample("*", $"{unsentBatches} batches could not be queued: {firstError}") }, NmsJson.Api);
        await using var command = Db.CreateCommand(DiscoverySql.AbandonBatches);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        command.Parameters.Add(new NpgsqlParameter { Value = unsentBatches });
        command.Parameters.Add(new NpgsqlParameter { Value = unsentTargets });
        command.Parameters.Add(new NpgsqlParameter { Value = sample });
        command.Parameters.Add(new NpgsqlParameter { Value = Math.Max(1, options.FailureSampleSize) });
        command.Parameters.Add(new NpgsqlParameter { Value = time.GetUtcNow() });
        await command.ExecuteNonQueryAsync(CancellationToken.None);
        if (cancellationToken.IsCancellationRequested)
        {
            cancellationToken.ThrowIfCancellationRequested();
        }

        throw new ProblemException(503, "Queue unavailable",
            $"Run {runId} was created, but {unsentBatches} of its batches could not be queued; they are counted as failed.");
    }

    private static DiscoveryRunView ReadRun(NpgsqlDataReader reader) => new(
        reader.GetGuid(0),
        reader.GetInt64(1),
        reader.GetString(2),
        reader.GetInt32(3),
        reader.GetInt32(4),
        reader.GetInt32(5),
        reader.GetInt32(6),
        reader.GetInt32(7),
        reader.GetInt32(8),
        reader.GetInt32(9),
        JsonSerializer.Deserialize<List<DiscoveryFailureSample>>(reader.GetString(10), NmsJson.Api) ?? [],
        reader.GetFieldValue<DateTimeOffset>(11),
        reader.IsDBNull(12) ? null : reader.GetFieldValue<DateTimeOffset>(12),
        reader.IsDBNull(13) ? null : reader.GetFieldValue<DateTimeOffset>(13));

    [LoggerMessage(Level = LogLevel.Information, Message = "Discovery run {RunId} of profile {ProfileId}: {Targets} targets in {Batches} batches")]
    private partial void LogRunStarted(Guid runId, long profileId, long targets, int batches);

    [LoggerMessage(Level = LogLevel.Error, Message = "Discovery run {RunId}: {Batches} batches ({Targets} targets) could not be queued, counted as failed: {Error}")]
    private partial void LogEnqueueFailed(Guid runId, int batches, int targets, string? error);
}
