namespace Nms.Core.Alerting;

/// <summary>
/// Every statement of alerting that reads metrics, in one place so it can be retargeted.
/// They read the metrics store v2 (CONTRACTS.md, owned by core/Metrics): <c>metric_series</c> for names
/// and labels, the hot table <c>metric_polls</c> (one row per device and poll time, series ids and values
/// as arrays; 052_metric_polls.sql) for values, and <c>nms_counter_delta</c> for
/// reset-aware counter increases. Windows never exceed 3 hours: the part v2 guarantees to keep hot.
/// Each observation statement returns (rule_id, device_id, labels::text, value, firing, recovered, reason)
/// only for series whose condition holds or that have an open alert, so a healthy fleet costs no rows.
/// Series are found per (rule, device in scope) through the series' unique (device_id, name, labels)
/// index, and each device's polls are read once through the hot table's (device_id, ts) index (the
/// LATERAL join) for all its rules, so the cost follows devices and rules, not how much history the table holds.
/// </summary>
internal static class AlertMetricsSql
{
    /// <summary>$1 metric name: has any plugin reported it (within the retained data)?</summary>
    public const string MetricReported = "SELECT EXISTS (SELECT 1 FROM metric_series WHERE name = $1)";

    /// <summary>$1 now. Threshold rules: last value, avg/min/max over the window, or a reset-aware per-second rate (first to last sample in the window, as Prometheus rate() without extrapolation).</summary>
    public const string ThresholdObservations = $"""
        WITH rules AS (
            SELECT * FROM alert_rules WHERE enabled AND kind = 'threshold'
        ), targets AS (
            -- Every (rule, device in scope, matching series): through the series' (device_id, name, labels) index.
            SELECT r.id AS rule_id, d.id AS device_id, s.id AS series_id, s.labels, s.counter_bits, r.window_seconds
            FROM rules r
            JOIN devices d ON {AlertingSql.RuleScope}
            JOIN metric_series s ON s.device_id = d.id AND s.name = r.metric AND s.labels @> r.labels
        ), per_device AS (
            -- A device's targets as arrays, so its polls are read once (for the longest window) and shared by all its rules.
            SELECT device_id, max(window_seconds) AS window_seconds,
                   array_agg(rule_id) AS rule_ids, array_agg(series_id) AS series_ids, array_agg(labels) AS labels,
                   array_agg(counter_bits) AS counter_bits, array_agg(window_seconds) AS windows
            FROM targets GROUP BY device_id
        ), samples AS (
            SELECT x.rule_id, x.device_id, x.labels, x.counter_bits, x.ts, x.value
            FROM per_device pd
            CROSS JOIN LATERAL (
                SELECT t.rule_id, pd.device_id, t.labels, t.counter_bits, p.ts, p.series_values[array_position(p.series_ids, t.series_id)] AS value
                FROM metric_polls p
                CROSS JOIN unnest(pd.rule_ids, pd.series_ids, pd.labels, pd.counter_bits, pd.windows) AS t(rule_id, series_id, labels, counter_bits, window_seconds)
                WHERE p.device_id = pd.device_id AND p.ts > $1 - make_interval(secs => pd.window_seconds) AND p.ts <= $1
                  AND p.ts > $1 - make_interval(secs => t.window_seconds)
                OFFSET 0 -- keeps the subquery per device: an index range scan each, never a scan of the table
            ) AS x
            WHERE x.value IS NOT NULL
        ), deltas AS (
            SELECT rule_id, device_id, labels, ts, value,
                   -- Reset- and 32-bit-wrap-aware: the store's one definition of a counter's increase.
                   nms_counter_delta(lag(value) OVER w, value, counter_bits) AS delta
            FROM samples
            WINDOW w AS (PARTITION BY rule_id, device_id, labels ORDER BY ts)
        ), aggregated AS (
            SELECT rule_id, device_id, labels,
                   (array_agg(value ORDER BY ts DESC))[1] AS last_value,
                   avg(value) AS avg_value, min(value) AS min_value, max(value) AS max_value,
                   sum(delta) AS increase, extract(epoch FROM max(ts) - min(ts)) AS span_seconds
            FROM deltas
            GROUP BY rule_id, device_id, labels
        ), valued AS (
            SELECT a.rule_id, a.device_id, a.labels, r.op, r.threshold, r.recovery_op, r.recovery_threshold, r.fn, r.metric,
                   CASE r.fn WHEN 'value' THEN a.last_value WHEN 'avg' THEN a.avg_value WHEN 'min' THEN a.min_value WHEN 'max' THEN a.max_value
                             WHEN 'rate' THEN CASE WHEN a.span_seconds > 0 THEN a.increase / a.span_seconds END END AS value
            FROM aggregated a JOIN rules r ON r.id = a.rule_id
        )
        SELECT v.rule_id, v.device_id, v.labels::text, v.value,
               COALESCE(nms_alert_compare(v.value, v.op, v.threshold), false) AS firing,
               COALESCE(nms_alert_compare(v.value, v.recovery_op, v.recovery_threshold), false) AS recovered,
               v.fn || '(' || v.metric || ') = ' || round(v.value::numeric, 3) || ' (fires ' || v.op || ' ' || v.threshold || ', resolves ' || v.recovery_op || ' ' || v.recovery_threshold || ')'
        FROM valued v
        LEFT JOIN ({AlertingSql.OpenKeys}) o ON o.rule_id = v.rule_id AND o.device_id = v.device_id AND o.labels = v.labels
        WHERE COALESCE(nms_alert_compare(v.value, v.op, v.threshold), false) OR o.rule_id IS NOT NULL
        """;

    /// <summary>$1 now. Interface down: the latest if_oper_status is not up (1) while the latest if_admin_status of the same labels is up.</summary>
    public const string InterfaceDownObservations = $"""
        WITH rules AS (
            SELECT * FROM alert_rules WHERE enabled AND kind = 'interface_down'
        ), latest AS (
            SELECT DISTINCT ON (r.id, d.id, m.name, m.labels) r.id AS rule_id, d.id AS device_id, m.name, m.labels, m.value
            FROM rules r
            JOIN devices d ON {AlertingSql.RuleScope}
            CROSS JOIN LATERAL (
                SELECT s.name, s.labels, p.ts, p.value
                FROM metric_series s
                JOIN metric_polls h ON h.device_id = s.device_id
                CROSS JOIN LATERAL (SELECT h.ts, h.series_values[array_position(h.series_ids, s.id)] AS value) AS p
                WHERE s.device_id = d.id AND s.name IN ('if_oper_status', 'if_admin_status') AND s.labels @> r.labels
                  AND h.ts > $1 - make_interval(secs => r.window_seconds) AND h.ts <= $1 AND p.value IS NOT NULL
                OFFSET 0
            ) AS m
            ORDER BY r.id, d.id, m.name, m.labels, m.ts DESC
        ), interfaces AS (
            SELECT o.rule_id, o.device_id, o.labels, o.value, (o.value <> 1 AND a.value = 1) AS down
            FROM latest o
            JOIN latest a ON a.rule_id = o.rule_id AND a.device_id = o.device_id AND a.labels = o.labels AND a.name = 'if_admin_status'
            WHERE o.name = 'if_oper_status'
        )
        SELECT f.rule_id, f.device_id, f.labels::text, f.value, f.down, NOT f.down,
               'interface ' || COALESCE(f.labels ->> 'interface', f.labels::text) || ' oper status ' || f.value || ' while admin status is up'
        FROM interfaces f
        LEFT JOIN ({AlertingSql.OpenKeys}) o ON o.rule_id = f.rule_id AND o.device_id = f.device_id AND o.labels = f.labels
        WHERE f.down OR o.rule_id IS NOT NULL
        """;
}
