using System.Text.Json;
using Microsoft.Extensions.Logging;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Entities;
using Nms.Core.Queues;
using Npgsql;

namespace Nms.Core.Alerting;

public enum DeliveryOutcome
{
    Delivered,
    NothingToDeliver,
    ChannelGone,
    RetryScheduled,
    Poisoned,
}

/// <summary>
/// The notifications queue consumer: one group (evaluation, channel) per message. Its undelivered
/// outbox rows are locked for the delivery, so a duplicate message waits and then finds them
/// delivered: nothing is sent twice per (alert, transition, channel) once a delivery committed.
/// A failed delivery records the error on the rows and on the channel (last_delivery_error), commits,
/// and sends the group again with exponential backoff (the next attempt's message stays invisible
/// base · 2^(n−1) seconds, capped); after <see cref="AlertingOptions.MaxDeliveryAttempts"/> it goes to
/// the poison queue instead. Anything else that throws (the database, the queue) is the host's to
/// retry after its visibility timeout, and to poison after maxDequeueCount.
/// </summary>
public sealed partial class NotificationDelivery(
    NmsDataSources dataSources,
    ChannelService channels,
    INotificationSender sender,
    IQueueSender queues,
    QueueNames queueNames,
    AlertingOptions options,
    TimeProvider time,
    ILogger<NotificationDelivery> logger)
{
    public async Task<DeliveryOutcome> DeliverAsync(NotificationMessage message, CancellationToken cancellationToken)
    {
        await using var connection = await dataSources.Api.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var rows = await EntityDb.QueryAsync(connection, transaction, AlertingSql.LockUndelivered, ReadRow, cancellationToken, message.EvaluationId, message.ChannelId);
        if (rows.Count == 0)
        {
            await transaction.CommitAsync(cancellationToken);
            LogNothing(message.EvaluationId, message.ChannelId);
            return DeliveryOutcome.NothingToDeliver;
        }

        var channel = await channels.OpenAsync(connection, transaction, message.ChannelId, cancellationToken);
        if (channel is null)
        {
            await transaction.CommitAsync(cancellationToken);
            return DeliveryOutcome.ChannelGone;
        }

        var cap = Math.Max(1, options.MaxAlertsPerNotification);
        var payload = new NotificationPayload(1, $"{message.EvaluationId}:{message.ChannelId}", channel.Name, time.GetUtcNow(),
            rows.Take(cap).Select(r => r.Alert).ToList(), Math.Max(0, rows.Count - cap));
        var ids = rows.Select(r => r.NotificationId).ToArray();
        try
        {
            await sender.SendAsync(channel, payload, cancellationToken);
        }
        catch (NotificationDeliveryException failure)
        {
            var now = time.GetUtcNow();
            await EntityDb.ExecuteAsync(connection, transaction, AlertingSql.MarkFailed, cancellationToken, ids, failure.Message);
            await EntityDb.ExecuteAsync(connection, transaction, AlertingSql.ChannelFailed, cancellationToken, channel.Id, failure.Message, now);
            await transaction.CommitAsync(cancellationToken);
            LogFailed(channel.Id, channel.Kind, rows.Count, message.Attempt, failure.Message);
            return await RetryLaterAsync(message, cancellationToken);
        }

        await EntityDb.ExecuteAsync(connection, transaction, AlertingSql.MarkDelivered, cancellationToken, ids, time.GetUtcNow());
        await EntityDb.ExecuteAsync(connection, transaction, AlertingSql.ChannelDelivered, cancellationToken, channel.Id, time.GetUtcNow());
        await transaction.CommitAsync(cancellationToken);
        LogDelivered(channel.Id, channel.Kind, rows.Count, message.EvaluationId);
        return DeliveryOutcome.Delivered;
    }

    /// <summary>After the failure is committed: the next attempt, delayed, or the poison queue after the last.</summary>
    private async Task<DeliveryOutcome> RetryLaterAsync(NotificationMessage message, CancellationToken cancellationToken)
    {
        if (message.Attempt >= Math.Max(1, options.MaxDeliveryAttempts))
        {
            // The host's own convention (<queue>-poison), so a poisoned group is found where every other poisoned message is.
            await queues.SendAsync(queueNames.Notifications + "-poison", message, cancellationToken);
            LogPoisoned(message.EvaluationId, message.ChannelId, message.Attempt);
            return DeliveryOutcome.Poisoned;
        }

        var delay = RetryDelay(message.Attempt, options);
        await queues.SendLaterAsync(queueNames.Notifications, message with { Attempt = message.Attempt + 1 }, delay, cancellationToken);
        return DeliveryOutcome.RetryScheduled;
    }

    /// <summary>The wait after failed attempt <paramref name="attempt"/> (1-based): base, 2·base, 4·base, ... up to the cap.</summary>
    public static TimeSpan RetryDelay(int attempt, AlertingOptions options)
    {
        var baseSeconds = Math.Max(1, options.RetryBaseSeconds);
        var cap = Math.Max(baseSeconds, options.RetryCapSeconds);
        return TimeSpan.FromSeconds(Math.Min(cap, baseSeconds * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30))));
    }

    /// <summary>"Send test notification": a synthetic alert straight to the receiver, now; the result is returned, nothing is stored.</summary>
    public async Task<TestNotificationResult> SendTestAsync(long channelId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSources.Api.OpenConnectionAsync(cancellationToken);
        var channel = await channels.OpenAsync(connection, null, channelId, cancellationToken)
            ?? throw Api.ProblemException.NotFound($"No notification channel with id {channelId}.");
        var now = time.GetUtcNow();
        var alert = new NotifiedAlert(0, "test", AlertStates.Firing, 0, "test notification", "test", "info", 0, "192.0.2.1", "nms-test", new Dictionary<string, string>(), null,
            "This is a test notification from Nms.Functions.", now, null);
        try
        {
            await sender.SendAsync(channel, new NotificationPayload(1, $"test:{Guid.NewGuid()}", channel.Name, now, [alert], 0), cancellationToken);
            return new TestNotificationResult(true, null);
        }
        catch (NotificationDeliveryException failure)
        {
            return new TestNotificationResult(false, failure.Message);
        }
    }

    private sealed record Row(long NotificationId, NotifiedAlert Alert);

    private static Row ReadRow(NpgsqlDataReader r)
    {
        var transition = r.GetString(1);
        return new Row(r.GetInt64(0), new NotifiedAlert(
            r.GetInt64(2), transition.StartsWith("repeat", StringComparison.Ordinal) ? "repeat" : transition, r.GetString(3), r.GetInt64(4), r.GetString(5), r.GetString(6),
            r.GetString(7), r.GetInt64(8), r.GetString(9), r.NullableString(10), JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(11))!,
            r.IsDBNull(12) ? null : r.GetDouble(12), r.NullableString(13), r.NullableTimestamp(14), r.NullableTimestamp(15)));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Notified channel {ChannelId} ({Kind}): {Count} alerts of evaluation {EvaluationId}")]
    private partial void LogDelivered(long channelId, string kind, int count, Guid evaluationId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery to channel {ChannelId} ({Kind}) of {Count} alerts failed (attempt {Attempt}): {Error}")]
    private partial void LogFailed(long channelId, string kind, int count, int attempt, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Notification group {EvaluationId}/{ChannelId} moved to the poison queue after {Attempts} failed attempts")]
    private partial void LogPoisoned(Guid evaluationId, long channelId, int attempts);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Notification group {EvaluationId}/{ChannelId} already delivered")]
    private partial void LogNothing(Guid evaluationId, long channelId);
}
