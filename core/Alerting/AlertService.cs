using Microsoft.Extensions.DependencyInjection;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Nms.Core.Api;
using Nms.Core.Entities;
using Nms.Core.Data;
using Npgsql;
using static Nms.Core.Entities.EntityValidation;

namespace Nms.Core.Alerting;

/// <summary>Alerts as the API shows them (newest first, filters, cursor), acknowledgements and silences.</summary>
public sealed class AlertService([FromKeyedServices(NmsDataSources.ApiKey)] NpgsqlDataSource dataSource, TimeProvider time, ILogger<AlertService> logger)
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    public async Task<Page<AlertInstance>> ListAsync(AlertQuery query, CancellationToken cancellationToken)
    {
        var state = query.State is null ? null : OneOf(query.State, AlertKinds.States, "state");
        var severity = query.Severity is null ? null : OneOf(query.Severity, AlertKinds.Severities, "severity");
        Tag? tag = query.Tag is null ? null : Tag.Parse(query.Tag, "tag");
        var limit = query.Limit ?? DefaultPageSize;
        if (limit is < 1 or > MaxPageSize)
        {
            throw ProblemException.BadRequest("limit", $"'limit' must be 1-{MaxPageSize}.");
        }

        long? before = query.Cursor is null ? null : DeviceService.DecodeCursor(query.Cursor);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await EntityDb.QueryAsync(connection, null, AlertingSql.ListAlerts, Read, cancellationToken,
            before, state, severity, tag?.Key, tag?.Value, query.DeviceId, limit + 1);
        var more = rows.Count > limit;
        if (more)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        return new Page<AlertInstance>(rows, more ? DeviceService.EncodeCursor(rows[^1].Id) : null);
    }

    public async Task<AlertInstance> GetAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await SelectAsync(connection, null, id, cancellationToken);
    }

    public async Task<AlertInstance> AcknowledgeAsync(long id, ApiPrincipal who, AcknowledgeRequest request, CancellationToken cancellationToken)
    {
        var comment = Text(request.Comment, "comment", 1000);
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (await EntityDb.ExecuteAsync(connection, transaction, AlertingSql.Acknowledge, cancellationToken, id, who.Name, now, comment) == 0)
        {
            throw NotFound(id);
        }

        await EntityDb.ExecuteAsync(connection, transaction, AlertingSql.InsertAckEvent, cancellationToken, id, $"{who.Name}: {comment}", now);
        var alert = await SelectAsync(connection, transaction, id, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Alert {AlertId} acknowledged by key {ApiKeyId}", id, who.KeyId);
        return alert;
    }

    public async Task<Silence> SilenceAsync(ApiPrincipal who, SilenceRequest request, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var endsAt = request.EndsAt ?? throw ProblemException.BadRequest("ends_at", "'ends_at' is required.");
        if (endsAt <= now)
        {
            throw ProblemException.BadRequest("ends_at", "'ends_at' must be in the future.");
        }

        var reason = RequiredText(request.Reason, "reason", 1000);
        if (request.AlertId is null && (request.RuleId is null || request.DeviceId is null))
        {
            throw ProblemException.BadRequest("alert_id", "Silence one alert ('alert_id') or a rule on a device ('rule_id' and 'device_id').");
        }

        if (request.AlertId is not null && (request.RuleId is not null || request.DeviceId is not null))
        {
            throw ProblemException.BadRequest(request.RuleId is not null ? "rule_id" : "device_id", "With 'alert_id', leave 'rule_id' and 'device_id' out.");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await RequireAsync(connection, AlertingSql.AlertExists, request.AlertId, "alert_id", cancellationToken);
        await RequireAsync(connection, AlertingSql.RuleExists, request.RuleId, "rule_id", cancellationToken);
        await RequireAsync(connection, AlertingSql.DeviceExists, request.DeviceId, "device_id", cancellationToken);
        var silence = (await EntityDb.QueryAsync(connection, null, AlertingSql.InsertSilence, ReadSilence, cancellationToken,
            request.AlertId, request.RuleId, request.DeviceId, endsAt, who.Name, reason, now))[0];
        logger.LogInformation("Silence {SilenceId} until {EndsAt} by key {ApiKeyId}", silence.Id, endsAt, who.KeyId);
        return silence;
    }

    public async Task<IReadOnlyList<Silence>> ListSilencesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await EntityDb.QueryAsync(connection, null, AlertingSql.ListSilences, ReadSilence, cancellationToken, time.GetUtcNow());
    }

    public async Task DeleteSilenceAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (await EntityDb.ExecuteAsync(connection, null, AlertingSql.DeleteSilence, cancellationToken, id) == 0)
        {
            throw ProblemException.NotFound($"No silence with id {id}.");
        }
    }

    private static async Task RequireAsync(NpgsqlConnection connection, string sql, long? id, string field, CancellationToken cancellationToken)
    {
        if (id is not null && (await EntityDb.QueryAsync(connection, null, sql, r => r.GetInt64(0), cancellationToken, id.Value)).Count == 0)
        {
            throw ProblemException.BadRequest(field, $"'{field}' {id} does not exist.");
        }
    }

    private static async Task<AlertInstance> SelectAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, long id, CancellationToken cancellationToken) =>
        await EntityDb.QuerySingleAsync(connection, transaction, AlertingSql.SelectAlert, Read, cancellationToken, id) ?? throw NotFound(id);

    private static AlertInstance Read(NpgsqlDataReader r) => new(
        r.GetInt64(0), r.GetInt64(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetInt64(5), r.GetString(6), r.NullableString(7),
        JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(8))!, r.GetString(9), r.IsDBNull(10) ? null : r.GetDouble(10), r.NullableString(11),
        r.Timestamp(12), r.NullableTimestamp(13), r.NullableTimestamp(14), r.NullableString(15), r.NullableTimestamp(16), r.NullableString(17));

    private static Silence ReadSilence(NpgsqlDataReader r) =>
        new(r.GetInt64(0), r.NullableInt64(1), r.NullableInt64(2), r.NullableInt64(3), r.Timestamp(4), r.GetString(5), r.GetString(6), r.Timestamp(7));

    private static ProblemException NotFound(long id) => ProblemException.NotFound($"No alert with id {id}.");
}
