namespace Nms.Core.Discovery;

/// <summary>The discovery feature's statements, positional parameters only; devices are provisioned by <see cref="Devices.DeviceLifecycle"/>.</summary>
public static class DiscoverySql
{
    /// <summary>$1 profile id.</summary>
    public const string SelectProfile = """
        SELECT id, target, port, plugin, ping_precheck, timeout_ms, poll_interval_seconds
        FROM discovery_profiles
        WHERE id = $1
        """;

    /// <summary>$1 profile id: the profile's credentials in the order the plugin tries them.</summary>
    public const string SelectProfileCredentialIds = """
        SELECT credential_profile_id
        FROM discovery_profile_credentials
        WHERE discovery_profile_id = $1
        ORDER BY position
        """;

    /// <summary>$1 run id, $2 profile id, $3 targets, $4 batches_total, $5 created_at.</summary>
    public const string InsertRun = """
        INSERT INTO discovery_runs (id, discovery_profile_id, status, targets, batches_total, created_at)
        VALUES ($1, $2, 'queued', $3, $4, $5)
        """;

    /// <summary>
    /// $1 run id, $2 batches that could not be enqueued, $3 their targets, $4 failure samples (jsonb array),
    /// $5 sample cap, $6 now. The unsent batches leave the run's total and count as failed, so the
    /// run still completes once the batches that were sent are done; the outage goes first in the
    /// samples so a full sample list cannot hide it.
    /// </summary>
    public const string AbandonBatches = """
        UPDATE discovery_runs SET
            batches_total = batches_total - $2,
            failed = failed + $3,
            failure_samples = (SELECT coalesce(jsonb_agg(e ORDER BY n), '[]'::jsonb)
                               FROM jsonb_array_elements($4::jsonb || failure_samples) WITH ORDINALITY AS s(e, n)
                               WHERE n <= $5),
            status = CASE WHEN batches_done >= batches_total - $2 THEN 'completed' ELSE status END,
            finished_at = CASE WHEN batches_done >= batches_total - $2 THEN $6 ELSE finished_at END
        WHERE id = $1
        """;

    private const string RunColumns = """
        id, discovery_profile_id, status, targets, batches_total, batches_done, responded, provisioned,
        already_known, failed, failure_samples::text, created_at, started_at, finished_at
        """;

    /// <summary>$1 run id.</summary>
    public const string SelectRun = "SELECT " + RunColumns + " FROM discovery_runs WHERE id = $1";

    /// <summary>$1 profile id, $2 limit: newest first.</summary>
    public const string SelectRunsOfProfile = "SELECT " + RunColumns + """

        FROM discovery_runs
        WHERE discovery_profile_id = $1
        ORDER BY created_at DESC, id
        LIMIT $2
        """;

    /// <summary>$1 only queued and running runs, $2 limit: every profile's runs, newest first.</summary>
    public const string SelectRecentRuns = "SELECT " + RunColumns + """

        FROM discovery_runs
        WHERE NOT $1 OR status <> 'completed'
        ORDER BY created_at DESC, id
        LIMIT $2
        """;

    /// <summary>$1 profile id.</summary>
    public const string ProfileExists = "SELECT EXISTS (SELECT 1 FROM discovery_profiles WHERE id = $1)";

    /// <summary>$1 run id, $2 batch no: a cheap early exit for a redelivered batch (the transaction decides).</summary>
    public const string BatchDone = "SELECT EXISTS (SELECT 1 FROM discovery_run_batches WHERE run_id = $1 AND batch_no = $2)";

    /// <summary>$1 run id: the run and the profile it runs, as the worker needs them.</summary>
    public const string SelectRunForWorker = """
        SELECT r.discovery_profile_id, r.status, p.port, p.plugin, p.ping_precheck, p.timeout_ms, p.poll_interval_seconds
        FROM discovery_runs r
        JOIN discovery_profiles p ON p.id = r.discovery_profile_id
        WHERE r.id = $1
        """;

    /// <summary>$1 run id, $2 now: the first batch to start moves the run from queued to running.</summary>
    public const string MarkRunning = """
        UPDATE discovery_runs SET status = 'running', started_at = $2
        WHERE id = $1 AND status = 'queued'
        """;

    /// <summary>$1 run id, $2 batch no, $3 now. No row back means another delivery already counted this batch.</summary>
    public const string ClaimBatch = """
        INSERT INTO discovery_run_batches (run_id, batch_no, completed_at)
        VALUES ($1, $2, $3)
        ON CONFLICT (run_id, batch_no) DO NOTHING
        RETURNING batch_no
        """;

    /// <summary>
    /// $1 run id, $2 responded, $3 provisioned, $4 already known, $5 failed, $6 failure samples
    /// (jsonb array), $7 sample cap, $8 now. One statement, so parallel batches add up exactly and
    /// the batch that brings batches_done to batches_total is the one that completes the run.
    /// </summary>
    public const string CountBatch = """
        UPDATE discovery_runs SET
            batches_done = batches_done + 1,
            responded = responded + $2,
            provisioned = provisioned + $3,
            already_known = already_known + $4,
            failed = failed + $5,
            failure_samples = CASE
                WHEN jsonb_array_length(failure_samples) >= $7 OR jsonb_array_length($6::jsonb) = 0 THEN failure_samples
                ELSE (SELECT coalesce(jsonb_agg(e ORDER BY n), '[]'::jsonb)
                      FROM jsonb_array_elements(failure_samples || $6::jsonb) WITH ORDINALITY AS s(e, n)
                      WHERE n <= $7)
            END,
            started_at = coalesce(started_at, $8),
            status = CASE WHEN batches_done + 1 >= batches_total THEN 'completed' ELSE 'running' END,
            finished_at = CASE WHEN batches_done + 1 >= batches_total THEN $8 ELSE NULL END
        WHERE id = $1
        RETURNING status, targets, responded, provisioned, already_known, failed
        """;
}
