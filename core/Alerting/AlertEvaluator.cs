using Microsoft.Extensions.Logging;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Entities;
using Nms.Core.Queues;
using Npgsql;

namespace Nms.Core.Alerting;

public sealed record EvaluationResult(bool Ran, Guid EvaluationId, int Observations, int Created, int Changed, int Dropped, int Notifications, int GroupsEnqueued);

/// <summary>
/// One evaluation of every enabled rule: set-based observations (one statement per rule kind over
/// all devices), the state machine in memory, and every state change with its outbox rows in one
/// transaction. Only one evaluation runs at a time across instances (a session advisory lock; a run
/// that cannot take it does nothing). After commit the outbox groups go to the notifications queue;
/// delivery happens there, so a slow receiver never delays evaluation.
/// </summary>
public sealed partial class AlertEvaluator(
    NmsDataSources dataSources,
    IQueueSender queues,
    QueueNames queueNames,
    MaintenanceService maintenance,
    AlertingOptions options,
    TimeProvider time,
    ILogger<AlertEvaluator> logger)
{
    private const int ReanalyzeAfterChanges = 500;

    public async Task<EvaluationResult> EvaluateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSources.Api.OpenConnectionAsync(cancellationToken);
        if (!await ScalarAsync<bool>(connection, AlertingSql.TryLock, cancellationToken))
        {
            LogSkipped();
            return new EvaluationResult(false, Guid.Empty, 0, 0, 0, 0, 0, 0);
        }

        try
        {
            var result = await EvaluateLockedAsync(connection, cancellationToken);
            if (result.Created + result.Changed + result.Dropped >= ReanalyzeAfterChanges)
            {
                // The next evaluation's plans (hash join on the open alerts) need row counts that
                // autovacuum may not have refreshed yet after a burst; the table is small, this is cheap.
                await EntityDb.ExecuteAsync(connection, null, AlertingSql.AnalyzeAlerts, cancellationToken);
            }

            var groups = await EnqueueOutboxAsync(connection, cancellationToken);
            await PruneAsync(connection, cancellationToken);
            LogEvaluated(result.EvaluationId, result.Observations, result.Created, result.Changed, result.Dropped, result.Notifications, groups);
            return result with { GroupsEnqueued = groups };
        }
        finally
        {
            await ScalarAsync<bool>(connection, AlertingSql.Unlock, CancellationToken.None);
        }
    }

    private async Task<EvaluationResult> EvaluateLockedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var evaluationId = Guid.NewGuid();
        var activeWindows = await maintenance.ActiveWindowIdsAsync(connection, now, cancellationToken);

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await EntityDb.ExecuteAsync(connection, transaction, AlertingSql.EvaluationWorkMem, cancellationToken);
        var rules = (await EntityDb.QueryAsync(connection, transaction, AlertingSql.EvaluatedRules, r => new RuleTiming(r.GetInt64(0), r.GetString(2), r.GetInt32(3)), cancellationToken))
            .ToDictionary(r => r.Id);
        var observations = new List<Observation>();
        foreach (var sql in new[] { AlertingSql.DeviceDownObservations, AlertMetricsSql.InterfaceDownObservations, AlertMetricsSql.ThresholdObservations })
        {
            observations.AddRange(await EntityDb.QueryAsync(connection, transaction, sql, ReadObservation, cancellationToken, now));
        }

        var open = await EntityDb.QueryAsync(connection, transaction, AlertingSql.OpenInstances,
            r => new OpenInstance(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetString(3), r.GetString(4), r.Timestamp(5)), cancellationToken);
        var plan = AlertTransitions.Plan(observations, open, rules, now);

        var transitions = new List<(long Id, long RuleId, long DeviceId, string Kind, string? Detail)>();
        if (plan.Created.Count > 0)
        {
            var c = plan.Created;
            var inserted = await EntityDb.QueryAsync(connection, transaction, AlertingSql.InsertInstances,
                r => (Id: r.GetInt64(0), RuleId: r.GetInt64(1), DeviceId: r.GetInt64(2), Labels: r.GetString(3), State: r.GetString(4)), cancellationToken,
                c.Select(x => x.RuleId).ToArray(), c.Select(x => x.DeviceId).ToArray(), c.Select(x => x.Labels).ToArray(), c.Select(x => x.State).ToArray(),
                c.Select(x => x.Value).ToArray(), c.Select(x => x.Reason).ToArray(), now, c.Select(x => x.Severity).ToArray());
            var reasons = c.ToDictionary(x => (x.RuleId, x.DeviceId, x.Labels), x => x.Reason);
            transitions.AddRange(inserted.Select(x => (x.Id, x.RuleId, x.DeviceId, x.State, reasons.GetValueOrDefault((x.RuleId, x.DeviceId, x.Labels)))));
        }

        var openById = open.ToDictionary(i => i.Id);
        if (plan.Changed.Count > 0)
        {
            var u = plan.Changed;
            await EntityDb.ExecuteAsync(connection, transaction, AlertingSql.UpdateInstances, cancellationToken,
                u.Select(x => x.Id).ToArray(), u.Select(x => x.State).ToArray(), u.Select(x => x.Value).ToArray(), u.Select(x => x.Reason).ToArray(), now);
            transitions.AddRange(u.Select(x => (x.Id, openById[x.Id].RuleId, openById[x.Id].DeviceId, x.State, x.Reason)));
        }

        if (plan.Dropped.Count > 0)
        {
            await EntityDb.ExecuteAsync(connection, transaction, AlertingSql.DeleteInstances, cancellationToken, plan.Dropped.ToArray());
        }

        var muted = await MutedAsync(connection, transaction, activeWindows, now, cancellationToken);
        var notified = transitions.Where(t => t.Kind != AlertStates.Pending && !muted.Mutes(t.Id, t.RuleId, t.DeviceId)).ToList();
        var suppressed = transitions.Where(t => t.Kind != AlertStates.Pending && muted.Mutes(t.Id, t.RuleId, t.DeviceId)).ToList();
        if (transitions.Count > 0)
        {
            var events = transitions.Select(t => (t.Id, t.Kind, t.Detail))
                .Concat(suppressed.Select(t => (t.Id, Kind: "notification_suppressed", Detail: (string?)muted.Why(t.Id, t.RuleId, t.DeviceId))))
                .ToList();
            await EntityDb.ExecuteAsync(connection, transaction, AlertingSql.InsertEvents, cancellationToken,
                events.Select(e => e.Id).ToArray(), events.Select(e => e.Kind).ToArray(), events.Select(e => e.Detail).ToArray(), now);
        }

        var notifications = 0;
        if (notified.Count > 0)
        {
            notifications += await EntityDb.ExecuteAsync(connection, transaction, AlertingSql.InsertNotifications, cancellationToken,
                notified.Select(t => t.Id).ToArray(), notified.Select(t => t.Kind).ToArray(), evaluationId, now);
        }

        var stillFiringMuted = open.Where(i => i.State == AlertStates.Firing && muted.Mutes(i.Id, i.RuleId, i.DeviceId)).Select(i => i.Id);
        notifications += await EntityDb.ExecuteAsync(connection, transaction, AlertingSql.InsertRepeats, cancellationToken,
            evaluationId, now, stillFiringMuted.Concat(transitions.Select(t => t.Id)).ToArray());
        await transaction.CommitAsync(cancellationToken);
        foreach (var t in transitions.Where(t => t.Kind != AlertStates.Pending))
        {
            LogTransition(t.Id, t.RuleId, t.DeviceId, t.Kind, t.Detail ?? "");
        }

        return new EvaluationResult(true, evaluationId, observations.Count, plan.Created.Count, plan.Changed.Count, plan.Dropped.Count, notifications, 0);
    }

    /// <summary>The transactional outbox's relay: every group not yet on the queue (this run's, or one a crash left), then marked.</summary>
    private async Task<int> EnqueueOutboxAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var groups = await EntityDb.QueryAsync(connection, null, AlertingSql.UnqueuedGroups, r => new NotificationMessage(r.GetGuid(0), r.GetInt64(1)), cancellationToken);
        foreach (var group in groups)
        {
            await queues.SendAsync(queueNames.Notifications, group, cancellationToken);
            await EntityDb.ExecuteAsync(connection, null, AlertingSql.MarkEnqueued, cancellationToken, group.EvaluationId, group.ChannelId, time.GetUtcNow());
        }

        return groups.Count;
    }

    private async Task PruneAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await EntityDb.ExecuteAsync(connection, null, AlertingSql.PruneHistory, cancellationToken, now - TimeSpan.FromDays(Math.Max(1, options.HistoryRetentionDays)));
        await EntityDb.ExecuteAsync(connection, null, AlertingSql.PruneSilences, cancellationToken, now - TimeSpan.FromDays(Math.Max(1, options.HistoryRetentionDays)));
    }

    private static async Task<Muted> MutedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long[] activeWindows, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var inMaintenance = activeWindows.Length == 0
            ? []
            : (await EntityDb.QueryAsync(connection, transaction, AlertingSql.DevicesInMaintenance, r => r.GetInt64(0), cancellationToken, activeWindows)).ToHashSet();
        var silences = await EntityDb.QueryAsync(connection, transaction, AlertingSql.ActiveSilences,
            r => (Instance: r.NullableInt64(0), Rule: r.NullableInt64(1), Device: r.NullableInt64(2)), cancellationToken, now);
        return new Muted(inMaintenance,
            silences.Where(s => s.Instance is not null).Select(s => s.Instance!.Value).ToHashSet(),
            silences.Where(s => s.Instance is null).Select(s => (s.Rule!.Value, s.Device!.Value)).ToHashSet());
    }

    private sealed record Muted(HashSet<long> Devices, HashSet<long> Instances, HashSet<(long Rule, long Device)> RuleDevices)
    {
        public bool Mutes(long instance, long rule, long device) => Why(instance, rule, device) is not null;

        public string? Why(long instance, long rule, long device) =>
            Devices.Contains(device) ? "maintenance window"
            : Instances.Contains(instance) || RuleDevices.Contains((rule, device)) ? "silenced"
            : null;
    }

    private static Observation ReadObservation(NpgsqlDataReader r) =>
        new(r.GetInt64(0), r.GetInt64(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetDouble(3), r.GetBoolean(4), r.GetBoolean(5), r.NullableString(6));

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = EntityDb.Command(connection, null, sql);
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Alert evaluation skipped: another instance is evaluating")]
    private partial void LogSkipped();

    [LoggerMessage(Level = LogLevel.Debug, Message = "Alert evaluation {EvaluationId}: {Observations} observations, {Created} new, {Changed} changed, {Dropped} dropped, {Notifications} notifications, {Groups} groups enqueued")]
    private partial void LogEvaluated(Guid evaluationId, int observations, int created, int changed, int dropped, int notifications, int groups);

    [LoggerMessage(Level = LogLevel.Information, Message = "Alert {AlertId} (rule {RuleId}, device {DeviceId}) {State}: {Reason}")]
    private partial void LogTransition(long alertId, long ruleId, long deviceId, string state, string reason);
}

/// <summary>
/// The notifications queue message: one group (an evaluation's alerts for one channel), and which
/// delivery attempt this is (1 from the evaluator; retries carry 2, 3, ...). Ids only, never a secret.
/// </summary>
public sealed record NotificationMessage(Guid EvaluationId, long ChannelId, int Attempt = 1);
