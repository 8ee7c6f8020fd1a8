using Microsoft.Extensions.DependencyInjection;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Nms.Core.Api;
using Nms.Core.Configuration;
using Nms.Core.Entities;
using Nms.Core.Data;
using Npgsql;
using static Nms.Core.Entities.EntityValidation;

namespace Nms.Core.Alerting;

/// <summary>Alert rules: validated so that the evaluator never meets a rule it cannot evaluate.</summary>
public sealed class AlertRuleService([FromKeyedServices(NmsDataSources.ApiKey)] NpgsqlDataSource dataSource, TimeProvider time, ILogger<AlertRuleService> logger)
{
    public const int MaxForSeconds = 7 * 86_400;

    /// <summary>The v2 store keeps at least the last 3 hours hot (CONTRACTS.md): windows stay inside it.</summary>
    public const int MaxWindowSeconds = 3 * 3_600;

    private const string UniqueName = "alert_rules_name_key";

    public async Task<AlertRule> CreateAsync(AlertRuleRequest request, CancellationToken cancellationToken)
    {
        var rule = Validate(request);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await CheckReferencesAsync(connection, transaction, rule, cancellationToken);
        var now = time.GetUtcNow();
        try
        {
            var ids = await EntityDb.QueryAsync(connection, transaction, AlertingSql.InsertRule, r => r.GetInt64(0), cancellationToken, Values(rule, now));
            var created = await SelectAsync(connection, transaction, ids[0], cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            logger.LogInformation("Created alert rule {RuleId} ({Kind}, {Severity})", created.Id, created.Kind, created.Severity);
            return created;
        }
        catch (PostgresException ex) when (ex.Violates(PostgresErrorCodes.UniqueViolation, UniqueName))
        {
            throw ProblemException.Conflict($"An alert rule named '{rule.Name}' already exists.");
        }
    }

    public async Task<AlertRule> ReplaceAsync(long id, AlertRuleRequest request, CancellationToken cancellationToken)
    {
        var rule = Validate(request);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await CheckReferencesAsync(connection, transaction, rule, cancellationToken);
        try
        {
            var values = Values(rule, time.GetUtcNow()).Prepend(id).ToArray();
            if (await EntityDb.ExecuteAsync(connection, transaction, AlertingSql.UpdateRule, cancellationToken, values) == 0)
            {
                throw NotFound(id);
            }

            var replaced = await SelectAsync(connection, transaction, id, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            logger.LogInformation("Replaced alert rule {RuleId}", id);
            return replaced;
        }
        catch (PostgresException ex) when (ex.Violates(PostgresErrorCodes.UniqueViolation, UniqueName))
        {
            throw ProblemException.Conflict($"An alert rule named '{rule.Name}' already exists.");
        }
    }

    public async Task<AlertRule> GetAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await SelectAsync(connection, null, id, cancellationToken);
    }

    public async Task<IReadOnlyList<AlertRule>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await EntityDb.QueryAsync(connection, null, AlertingSql.ListRules, Read, cancellationToken);
    }

    public async Task DeleteAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (await EntityDb.ExecuteAsync(connection, null, AlertingSql.DeleteRule, cancellationToken, id) == 0)
        {
            throw NotFound(id);
        }

        logger.LogInformation("Deleted alert rule {RuleId}", id);
    }

    internal static AlertRuleRequest Validate(AlertRuleRequest request)
    {
        var kind = OneOf(request.Kind, AlertKinds.All, "kind");
        var scopeTags = Tag.ParseAll(request.ScopeTags, "scope_tags");
        var scopeIds = PositiveIds(request.ScopeDeviceIds, "scope_device_ids");
        if (scopeTags.Count > 0 && scopeIds.Count > 0)
        {
            throw ProblemException.BadRequest("scope_device_ids", "Scope a rule by 'scope_tags' or by 'scope_device_ids', not both.");
        }

        var forSeconds = request.ForSeconds ?? 0;
        if (forSeconds is < 0 or > MaxForSeconds)
        {
            throw ProblemException.BadRequest("for_seconds", $"'for_seconds' must be 0-{MaxForSeconds}.");
        }

        if (request.FailureCount is not null && (kind != AlertKinds.DeviceDown || request.FailureCount is < 1 or > 1000))
        {
            throw ProblemException.BadRequest("failure_count", "'failure_count' (1-1000) is for device_down rules only.");
        }

        var valid = request with
        {
            Name = RequiredText(request.Name, "name"),
            Kind = kind,
            Severity = OneOf(request.Severity, AlertKinds.Severities, "severity"),
            Enabled = request.Enabled ?? true,
            ScopeTags = Tag.Texts(scopeTags),
            ScopeDeviceIds = scopeIds,
            ForSeconds = forSeconds,
            Labels = Labels(request.Labels, kind),
            AllowUnknownMetric = request.AllowUnknownMetric ?? false,
            ChannelIds = PositiveIds(request.ChannelIds, "channel_ids"),
        };
        return kind == AlertKinds.Threshold ? ValidateThreshold(valid) : NoThresholdFields(valid);
    }

    private static AlertRuleRequest ValidateThreshold(AlertRuleRequest rule)
    {
        var metric = RequiredText(rule.Metric, "metric", 200);
        var fn = rule.Fn is null ? "value" : OneOf(rule.Fn, AlertKinds.Functions, "fn");
        var window = rule.WindowSeconds ?? 300;
        if (window is < 10 or > MaxWindowSeconds)
        {
            throw ProblemException.BadRequest("window_seconds", $"'window_seconds' must be 10-{MaxWindowSeconds}.");
        }

        var op = OneOf(rule.Op, AlertKinds.Operators, "op");
        var threshold = rule.Threshold ?? throw ProblemException.BadRequest("threshold", "'threshold' is required for threshold rules.");
        if (!double.IsFinite(threshold))
        {
            throw ProblemException.BadRequest("threshold", "'threshold' must be a finite number.");
        }

        // Without a recovery condition the alert resolves when the firing condition stops holding.
        var recoveryOp = rule.RecoveryOp is null ? Negate(op) : OneOf(rule.RecoveryOp, AlertKinds.Operators, "recovery_op");
        var recoveryThreshold = rule.RecoveryThreshold ?? threshold;
        if (!double.IsFinite(recoveryThreshold))
        {
            throw ProblemException.BadRequest("recovery_threshold", "'recovery_threshold' must be a finite number.");
        }

        if (Overlaps(op, threshold, recoveryOp, recoveryThreshold))
        {
            throw ProblemException.BadRequest("recovery_threshold",
                $"The recovery condition (value {recoveryOp} {recoveryThreshold}) must exclude the firing condition (value {op} {threshold}): some values would satisfy both.");
        }

        return rule with { Metric = metric, Fn = fn, WindowSeconds = window, Op = op, Threshold = threshold, RecoveryOp = recoveryOp, RecoveryThreshold = recoveryThreshold };
    }

    private static AlertRuleRequest NoThresholdFields(AlertRuleRequest rule)
    {
        var why = $"for {rule.Kind} rules";
        Absent(rule.Metric, "metric", why);
        Absent(rule.Fn, "fn", why);
        Absent(rule.Op, "op", why);
        Absent(rule.Threshold, "threshold", why);
        Absent(rule.RecoveryOp, "recovery_op", why);
        Absent(rule.RecoveryThreshold, "recovery_threshold", why);
        Absent(rule.WindowSeconds, "window_seconds", why);
        return rule with { WindowSeconds = 300 };
    }

    internal static string Negate(string op) => op switch { ">" => "<=", ">=" => "<", "<" => ">=", _ => ">" };

    /// <summary>True when some value satisfies both conditions (an alert could fire and resolve at once).</summary>
    internal static bool Overlaps(string op, double threshold, string recoveryOp, double recoveryThreshold)
    {
        var firesUp = op is ">" or ">=";
        var recoversUp = recoveryOp is ">" or ">=";
        if (firesUp == recoversUp)
        {
            return true;
        }

        // Fire above, recover below: the recovery bound must lie under the firing bound (touching only if one excludes it).
        var (upper, upperOp, lower, lowerOp) = firesUp ? (threshold, op, recoveryThreshold, recoveryOp) : (recoveryThreshold, recoveryOp, threshold, op);
        return lower > upper || (lower == upper && upperOp == ">=" && lowerOp == "<=");
    }

    private static IReadOnlyDictionary<string, string> Labels(IReadOnlyDictionary<string, string>? labels, string kind)
    {
        if (labels is null || labels.Count == 0)
        {
            return new Dictionary<string, string>();
        }

        if (kind == AlertKinds.DeviceDown)
        {
            throw ProblemException.BadRequest("labels", "'labels' is not allowed for device_down rules.");
        }

        foreach (var (key, value) in labels)
        {
            Text(key, "labels", 64);
            Text(value, $"labels.{key}", 200);
        }

        return labels;
    }

    private static IReadOnlyList<long> PositiveIds(IReadOnlyList<long>? ids, string field)
    {
        if (ids is null)
        {
            return [];
        }

        for (var i = 0; i < ids.Count; i++)
        {
            if (ids[i] <= 0)
            {
                throw ProblemException.BadRequest($"{field}[{i}]", $"'{field}[{i}]' is not an id.");
            }
        }

        return ids.Distinct().ToList();
    }

    private static async Task CheckReferencesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, AlertRuleRequest rule, CancellationToken cancellationToken)
    {
        var channels = rule.ChannelIds!.ToArray();
        var existing = (await EntityDb.QueryAsync(connection, transaction, AlertingSql.ExistingChannels, r => r.GetInt64(0), cancellationToken, channels)).ToHashSet();
        for (var i = 0; i < channels.Length; i++)
        {
            if (!existing.Contains(channels[i]))
            {
                throw ProblemException.BadRequest($"channel_ids[{i}]", $"No notification channel with id {channels[i]}.");
            }
        }

        if (rule.Kind == AlertKinds.Threshold && rule.AllowUnknownMetric != true && !KnownMetrics.Contains(rule.Metric!)
            && (await EntityDb.QueryAsync(connection, transaction, AlertMetricsSql.MetricReported, r => r.GetBoolean(0), cancellationToken, rule.Metric)).SingleOrDefault() != true)
        {
            throw ProblemException.BadRequest("metric",
                $"No plugin reports a metric named '{rule.Metric}'. Check the name (plugins/README.md lists them) or set \"allow_unknown_metric\": true.");
        }
    }

    private static object?[] Values(AlertRuleRequest rule, DateTimeOffset now) =>
    [
        rule.Name, rule.Kind, rule.Severity, rule.Enabled, rule.ScopeTags!.ToArray(), rule.ScopeDeviceIds!.ToArray(), rule.ForSeconds, rule.FailureCount,
        rule.Metric, JsonSerializer.Serialize(rule.Labels, NmsJson.Api), rule.Fn, rule.WindowSeconds, rule.Op, rule.Threshold, rule.RecoveryOp, rule.RecoveryThreshold,
        rule.AllowUnknownMetric, rule.ChannelIds!.ToArray(), now,
    ];

    private static async Task<AlertRule> SelectAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, long id, CancellationToken cancellationToken) =>
        await EntityDb.QuerySingleAsync(connection, transaction, AlertingSql.SelectRule, Read, cancellationToken, id) ?? throw NotFound(id);

    internal static AlertRule Read(NpgsqlDataReader r) => new(
        r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetBoolean(4), r.GetFieldValue<string[]>(5), r.GetFieldValue<long[]>(6), r.GetInt32(7),
        r.IsDBNull(8) ? null : r.GetInt32(8), r.NullableString(9), JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(10))!, r.NullableString(11), r.GetInt32(12),
        r.NullableString(13), r.IsDBNull(14) ? null : r.GetDouble(14), r.NullableString(15), r.IsDBNull(16) ? null : r.GetDouble(16), r.GetBoolean(17), r.GetFieldValue<long[]>(18),
        r.Timestamp(19), r.Timestamp(20));

    private static ProblemException NotFound(long id) => ProblemException.NotFound($"No alert rule with id {id}.");
}

/// <summary>The metric names the bundled plugins report (plugins/README.md, CONTRACTS.md); others must have been reported or be allowed explicitly.</summary>
public static class KnownMetrics
{
    private static readonly HashSet<string> Names = new(StringComparer.Ordinal)
    {
        "if_oper_status", "if_admin_status", "if_speed_bits", "if_in_octets_total", "if_out_octets_total", "if_in_errors_total", "if_out_errors_total",
        "if_in_discards_total", "if_out_discards_total", "if_in_unicast_packets_total", "if_out_unicast_packets_total",
        "cpu_load_percent", "storage_size_bytes", "storage_used_bytes",
        "cpu_utilisation_percent", "disk_size_bytes", "disk_used_bytes", "mem_available_bytes", "mem_total_bytes", "mem_used_bytes",
        "load_1m", "load_5m", "load_15m", "uptime_seconds",
        "memory_total_bytes", "memory_available_bytes", "memory_buffer_bytes", "memory_cached_bytes", "memory_swap_total_bytes", "memory_swap_available_bytes",
        "sys_uptime_seconds",
    };

    public static bool Contains(string name) => Names.Contains(name);
}
