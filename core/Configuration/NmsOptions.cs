namespace Nms.Core.Configuration;

/// <summary>Settings under the <c>Nms</c> section (env <c>Nms__Section__Key</c>).</summary>
public sealed class NmsOptions
{
    public const string Section = "Nms";

    public DatabaseOptions Database { get; set; } = new();
    public AuthOptions Auth { get; set; } = new();
    public CryptoOptions Crypto { get; set; } = new();
    public PluginOptions Plugins { get; set; } = new();
    public ReachabilityOptions Reachability { get; set; } = new();
    public DiscoveryOptions Discovery { get; set; } = new();
    public PollingOptions Polling { get; set; } = new();
    public HealthOptions Health { get; set; } = new();
    public MetricsOptions Metrics { get; set; } = new();
    public AlertingOptions Alerting { get; set; } = new();
}

public sealed class DatabaseOptions
{
    /// <summary>Pool for the API, scheduler and health: short transactions.</summary>
    public string ApiConnectionString { get; set; } = "";

    /// <summary>Dedicated pool for the metrics writer, so COPY never starves API reads.</summary>
    public string MetricsConnectionString { get; set; } = "";

    public bool MigrateOnStartup { get; set; } = true;
}

public sealed class AuthOptions
{
    public string BootstrapAdminKey { get; set; } = "";
}

public sealed class CryptoOptions
{
    /// <summary>The key id new secrets are sealed under.</summary>
    public string ActiveKeyId { get; set; } = "";

    /// <summary>Key id to base64 AES-256 key. Old ids stay here until no row uses them.</summary>
    public Dictionary<string, string> Keys { get; set; } = new(StringComparer.Ordinal);
}

public sealed class PluginOptions
{
    public string Directory { get; set; } = ".nms/plugins";
    public int MaxConcurrentProcesses { get; set; } = 4;
    public int RunTimeoutSeconds { get; set; } = 60;
    public int MaxOutputBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Run plugins whose manifest declares serve mode as one long-running process each (false: one process per batch).</summary>
    public bool Serve { get; set; } = true;
}

public sealed class ReachabilityOptions
{
    /// <summary><c>icmp</c> (fping) or <c>tcp</c> (connect to the device port).</summary>
    public string Mode { get; set; } = "icmp";
    public string FpingPath { get; set; } = "/usr/bin/fping";
    public int TimeoutMilliseconds { get; set; } = 500;
    public int Retries { get; set; } = 1;

    /// <summary>Comma-separated plugins that talk UDP: in <c>tcp</c> mode their devices skip the connect check (it would prove nothing).</summary>
    public string UdpPlugins { get; set; } = "snmp";
}

public sealed class DiscoveryOptions
{
    public int MaxAddressesPerRun { get; set; } = 65_536;
    public int BatchSize { get; set; } = 64;
    public int DefaultTimeoutMilliseconds { get; set; } = 2_000;
    public int FailureSampleSize { get; set; } = 20;
}

public sealed class PollingOptions
{
    public int BatchSize { get; set; } = 64;
    public int PopChunkSize { get; set; } = 1_000;

    /// <summary>Devices per poll message while the scheduler works off a backlog (a pop chunk came back full): fewer, fuller messages.</summary>
    public int BacklogBatchSize { get; set; } = 500;

    /// <summary>A backlog's pop chunks double from <see cref="PopChunkSize"/> up to this.</summary>
    public int MaxPopChunkSize { get; set; } = 16_000;
    public int TickBudgetMilliseconds { get; set; } = 5_000;
    public int TimeoutMilliseconds { get; set; } = 5_000;
}

public sealed class HealthOptions
{
    public int WindowSeconds { get; set; } = 300;
    public int Threshold { get; set; } = 3;
    public bool RecoveryProbeEnabled { get; set; }
    public bool SuccessfulPollClearsFailures { get; set; } = true;
}

public sealed class MetricsOptions
{
    /// <summary>Raw samples (hot rows and compacted blocks) are dropped after this many days.</summary>
    public int RawRetentionDays { get; set; } = 14;

    /// <summary>5-minute rollups are dropped after this many days.</summary>
    public int Rollup5mRetentionDays { get; set; } = 90;

    /// <summary>1-hour rollups are dropped after this many days.</summary>
    public int Rollup1hRetentionDays { get; set; } = 730;

    public int PartitionDaysAhead { get; set; } = 3;

    /// <summary>Bound on raw rows per answer (the answer says <c>truncated</c>).</summary>
    public int MaxRowsPerQuery { get; set; } = 10_000;

    /// <summary>Bound on points per series for a stepped query: more is a 400 naming <c>step</c> (Prometheus' 11,000).</summary>
    public int MaxPointsPerSeries { get; set; } = 11_000;

    /// <summary>Compaction window: each series' samples of one window become one block. Divides a day, multiple of 1 h.</summary>
    public int CompactionWindowMinutes { get; set; } = 120;

    /// <summary>Devices whose window one compaction transaction takes.</summary>
    public int CompactionDevicesPerTransaction { get; set; } = 200;

    /// <summary>Old <c>metrics</c> rows moved per transaction by the migration.</summary>
    public int BackfillBatchSize { get; set; } = 20_000;
}

public sealed class AlertingOptions
{
    /// <summary>Resolved alerts (with their events and notifications) are kept this long.</summary>
    public int HistoryRetentionDays { get; set; } = 30;

    /// <summary>How long one delivery to a receiver may take before it counts as failed.</summary>
    public int DeliveryTimeoutSeconds { get; set; } = 10;

    /// <summary>Alerts per notification (a group larger than this is cut, with a count of the rest).</summary>
    public int MaxAlertsPerNotification { get; set; } = 100;

    /// <summary>Delivery attempts of one notification group; after the last failed one it goes to the poison queue.</summary>
    public int MaxDeliveryAttempts { get; set; } = 5;

    /// <summary>The wait before the first retry; each further retry waits twice as long as the one before, up to the cap.</summary>
    public int RetryBaseSeconds { get; set; } = 30;

    public int RetryCapSeconds { get; set; } = 1_800;
}
