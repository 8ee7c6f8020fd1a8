using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Devices;
using Nms.Core.Diagnostics;
using Nms.Core.Health;
using Nms.Core.Metrics;
using Nms.Core.Plugins;
using Nms.Core.Queues;
using Nms.Core.Reachability;
using Nms.Plugins.Sdk;
using Npgsql;

namespace Nms.Core.Polling;

/// <summary>What one poll batch came to.</summary>
public sealed record PollOutcome(int Skipped, int Unreachable, int Failed, int Polled, int Samples, int MetricMessages, int FailureMessages);

/// <summary>
/// The seed's Poller: re-reads the batch's devices (skipping any deleted or deactivated since the pop),
/// checks reachability once for the batch, runs each plugin once for its group of reachable devices,
/// and sends results to the <c>metrics</c> queue and failures to the <c>failures</c> queue, split to fit the queue limit.
/// </summary>
public sealed partial class Poller(
    NmsDataSources data,
    IReachability reachability,
    PluginTargetRunner plugins,
    IQueueSender queues,
    QueueNames queueNames,
    PollingOptions options,
    HealthOptions health,
    NmsInstruments instruments,
    TimeProvider time,
    ILogger<Poller> logger)
{
    private const int MaxConcurrentSends = 8;

    // 64 values of ordinary names and labels are a few KiB: a poll entry never nears the message limit.
    private const int MaxValuesPerPoll = 64;

    public async Task<PollOutcome> PollAsync(PollBatchMessage batch, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var startedAt = time.GetUtcNow();
        var devices = await LoadActiveAsync(batch.Devices.Select(d => d.DeviceId).Distinct().ToArray(), cancellationToken);
        var dueAt = batch.Devices.GroupBy(d => d.DeviceId).ToDictionary(g => g.Key, g => g.Min(d => d.DueAt));
        var skipped = batch.Devices.Select(d => d.DeviceId).Distinct().Count() - devices.Count;
        foreach (var device in devices)
        {
            if (dueAt.TryGetValue(device.Id, out var due))
            {
                instruments.PollLag.Record((startedAt - due).TotalSeconds);
            }
        }

        var failures = new List<FailureEvent>();
        var unreachable = await reachability.UnreachableAsync(
            devices.Select(d => new ReachabilityTarget(d.Id, d.Ip, d.Port, d.Plugin)).ToList(), cancellationToken);
        foreach (var id in unreachable)
        {
            failures.Add(Failure(batch.BatchId, id, FailureEvent.PingReason, $"no answer to {reachability.Mode} reachability check"));
        }

        var groups = devices.Where(d => !unreachable.Contains(d.Id)).GroupBy(d => d.Plugin, StringComparer.Ordinal).ToList();
        var results = await Task.WhenAll(groups.Select(g => PollGroupAsync(batch.BatchId, g.Key, g.ToList(), cancellationToken)));
        var polls = results.SelectMany(r => r.Polls).ToList();
        var sampleCount = polls.Sum(p => p.Values.Count);
        var succeeded = results.SelectMany(r => r.Succeeded).ToArray();
        failures.AddRange(results.SelectMany(r => r.Failures));

        var metricMessages = await SendMetricsAsync(batch.BatchId, polls, cancellationToken);
        var failureMessages = await SendFailuresAsync(batch.BatchId, failures, cancellationToken);
        if (health.SuccessfulPollClearsFailures && succeeded.Length > 0)
        {
            await ClearFailureCountsAsync(succeeded, cancellationToken);
        }

        var pollFailed = failures.Count - unreachable.Count;
        instruments.DevicesPolled.Add(succeeded.Length);
        instruments.DevicesUnreachable.Add(unreachable.Count);
        instruments.DevicesFailed.Add(pollFailed);
        LogPolled(batch.BatchId, devices.Count, succeeded.Length, unreachable.Count, pollFailed, skipped, sampleCount, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return new PollOutcome(skipped, unreachable.Count, pollFailed, succeeded.Length, sampleCount, metricMessages, failureMessages);
    }

    private async Task<GroupResult> PollGroupAsync(Guid batchId, string plugin, IReadOnlyList<DeviceRow> devices, CancellationToken cancellationToken)
    {
        var outcomes = await plugins.RunAsync(plugin, PluginContract.PollMode, options.TimeoutMilliseconds, devices.Select(d => new PluginCallTarget(
            PluginCallTarget.IdOf(d.Id), d.Ip, d.Port, d.CredentialProfileId is { } id ? [id] : [], d.HostKey, d.PollProfile)).ToList(), cancellationToken);
        var polledAt = time.GetUtcNow();
        var polls = new List<MetricPoll>();
        var succeeded = new List<long>();
        var failures = new List<FailureEvent>();
        for (var i = 0; i < devices.Count; i++)
        {
            var (device, outcome) = (devices[i], outcomes[i]);
            if (outcome.Result is not { } result)
            {
                failures.Add(Failure(batchId, device.Id, FailureEvent.PollReason, outcome.Error!));
                continue;
            }

            succeeded.Add(device.Id);
            AddPolls(polls, device.Id, result.Metrics, polledAt);
        }

        return new GroupResult(polls, succeeded, failures);
    }

    /// <summary>
    /// One device's valid samples as <see cref="MetricPoll"/>s: one per poll time (a plugin may stamp a sample
    /// itself), of at most <see cref="MaxValuesPerPoll"/> values, so one poll always fits a queue message.
    /// </summary>
    private static void AddPolls(List<MetricPoll> polls, long deviceId, IReadOnlyList<PluginMetric>? metrics, DateTimeOffset polledAt)
    {
        if (metrics is null)
        {
            return;
        }

        List<MetricValue>? current = null;
        var currentTs = polledAt;
        foreach (var metric in metrics)
        {
            if (metric is null || string.IsNullOrEmpty(metric.Name) || !double.IsFinite(metric.Value))
            {
                continue;
            }

            var ts = metric.Ts ?? polledAt;
            if (current is null || ts != currentTs || current.Count == MaxValuesPerPoll)
            {
                current = new List<MetricValue>(Math.Min(metrics.Count, MaxValuesPerPoll));
                currentTs = ts;
                polls.Add(new MetricPoll(deviceId, ts, current));
            }

            current.Add(new MetricValue(metric.Name, metric.Value, metric.Labels is { Count: > 0 } labels ? labels : null, metric.Kind, metric.CounterBits));
        }
    }

    private async Task<IReadOnlyList<DeviceRow>> LoadActiveAsync(long[] ids, CancellationToken cancellationToken)
    {
        var devices = new List<DeviceRow>();
        if (ids.Length == 0)
        {
            return devices;
        }

        await using var command = data.Api.CreateCommand(PollingSql.LoadDevices);
        command.Parameters.Add(new NpgsqlParameter { Value = ids });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (reader.GetString(4) != "active")
            {
                continue;
            }

            devices.Add(new DeviceRow(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.GetInt32(2),
                reader.GetString(3),
                reader.IsDBNull(5) ? null : reader.GetInt64(5),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.IsDBNull(7) ? null : JsonSerializer.Deserialize<PluginPollProfile>(reader.GetString(7), NmsJson.Api)));
        }

        return devices;
    }

    private async Task<int> SendMetricsAsync(Guid pollBatchId, List<MetricPoll> polls, CancellationToken cancellationToken)
    {
        var traceParent = Activity.Current?.Id;
        var oversized = new List<GroupedPoll>();
        var parts = QueueMessageSplitter.Split(polls.Select(GroupedPoll.From), nameof(MetricsBatchMessage.GroupedPolls), tooLarge: (poll, _) => oversized.Add(poll),
            traceParent: traceParent, typeInfo: PollingJson.Default.GroupedPoll);
        if (oversized.Count > 0)
        {
            // Samples with very long labels: one sample per poll entry, and only a sample too large on its own is lost.
            var singles = oversized.Select(p => p.Expand(0)).SelectMany(p => p.Values.Select(v => GroupedPoll.From(new MetricPoll(p.DeviceId, p.Ts, [v]))));
            parts = [.. parts, .. QueueMessageSplitter.Split(singles, nameof(MetricsBatchMessage.GroupedPolls),
                tooLarge: (poll, size) => LogSampleTooLarge(pollBatchId, poll.DeviceId, poll.Groups[0].Names[0], size), traceParent: traceParent,
                typeInfo: PollingJson.Default.GroupedPoll)];
        }

        await SendAllAsync(queueNames.Metrics, parts, part =>
        {
            if (logger.IsEnabled(LogLevel.Debug))
            {
                LogMetricsSent(pollBatchId, part.BatchId, part.Items.Sum(p => p.Groups.Sum(g => g.Names.Count)));
            }
        }, cancellationToken);
        return parts.Count;
    }

    private async Task<int> SendFailuresAsync(Guid pollBatchId, IReadOnlyList<FailureEvent> failures, CancellationToken cancellationToken)
    {
        var parts = QueueMessageSplitter.Split(failures, nameof(FailureBatchMessage.Events),
            tooLarge: (failure, size) => LogFailureTooLarge(pollBatchId, failure.DeviceId, size), traceParent: Activity.Current?.Id,
            typeInfo: PollingJson.Default.FailureEvent);
        await SendAllAsync(queueNames.Failures, parts, _ => { }, cancellationToken);
        return parts.Count;
    }

    /// <summary>A batch's messages go out concurrently: one at a time, a 64-device batch spends most of its time waiting on the queue service.</summary>
    private Task SendAllAsync<T>(string queue, IEnumerable<QueueMessagePart<T>> parts, Action<QueueMessagePart<T>> sent, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(
            parts,
            new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentSends, CancellationToken = cancellationToken },
            async (part, ct) =>
            {
                await queues.SendJsonAsync(queue, part.Json, ct);
                sent(part);
            });

    private async Task ClearFailureCountsAsync(long[] ids, CancellationToken cancellationToken)
    {
        await using var connection = await data.Api.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await DeviceLifecycle.ClearFailureCountsAsync(connection, transaction, ids, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private FailureEvent Failure(Guid batchId, long deviceId, string reason, string error) =>
        new(EventId(batchId, deviceId, reason), deviceId, reason, error, time.GetUtcNow());

    /// <summary>
    /// Deterministic per (poll batch, device, reason): a redelivered poll batch produces the same event ids,
    /// so the health consumer counts each failure once.
    /// </summary>
    internal static Guid EventId(Guid batchId, long deviceId, string reason)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{batchId:N}/{deviceId}/{reason}")));
        var bytes = hash.AsSpan(0, 16).ToArray();
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x80); // version 8 (custom), in Guid's little-endian layout
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(bytes);
    }

    private sealed record DeviceRow(long Id, string Ip, int Port, string Plugin, long? CredentialProfileId, string? HostKey, PluginPollProfile? PollProfile);

    private sealed record GroupResult(IReadOnlyList<MetricPoll> Polls, IReadOnlyList<long> Succeeded, IReadOnlyList<FailureEvent> Failures);

    [LoggerMessage(Level = LogLevel.Information, Message = "Poll batch {BatchId}: {Devices} devices, {Polled} polled, {Unreachable} unreachable, {Failed} failed, {Skipped} skipped, {Samples} samples in {DurationMs:F0} ms")]
    private partial void LogPolled(Guid batchId, int devices, int polled, int unreachable, int failed, int skipped, int samples, double durationMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Poll batch {BatchId}: sample {Name} of device {DeviceId} is {Bytes} bytes, too large for a queue message; dropped")]
    private partial void LogSampleTooLarge(Guid batchId, long deviceId, string name, int bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Poll batch {BatchId}: failure event of device {DeviceId} is {Bytes} bytes, too large for a queue message; dropped")]
    private partial void LogFailureTooLarge(Guid batchId, long deviceId, int bytes);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Poll batch {BatchId}: sent metrics batch {MetricsBatchId} with {Samples} samples")]
    private partial void LogMetricsSent(Guid batchId, Guid metricsBatchId, int samples);
}
