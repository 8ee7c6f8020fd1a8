using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Azure.Storage.Queues;
using Npgsql;

namespace Nms.Testing;

public sealed record FaultLabOptions
{
    public int Devices { get; init; } = 24;
    public int IntervalSeconds { get; init; } = 10;

    /// <summary>Devices on 127.&lt;Network&gt;.x.y, all answered by one snmpd on 0.0.0.0.</summary>
    public byte Network { get; init; } = 77;

    /// <summary>host.json: a small delivery budget (attempts × visibility), so an outage outlasts it.</summary>
    public int MaxDequeueCount { get; init; } = 2;
    public TimeSpan VisibilityTimeout { get; init; } = TimeSpan.FromSeconds(1);

    public required string PluginsDirectory { get; init; }
    public required string LocalHostDll { get; init; }
    public string Fping { get; init; } = "/usr/bin/fping";
    public string LogLevel { get; init; } = "Warning";

    /// <summary>When set, every line of every app the lab runs is appended here as it comes (AppOutput keeps only a tail).</summary>
    public string? AppLogPath { get; init; }

    /// <summary>More app settings (log levels of one category, say), over the lab's own.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// Everything a fault test or the chaos bench breaks on purpose, all its own: a PostgreSQL cluster, an Azurite with
/// its data on disk, one snmpd answering for every device, and the app as a separate process (the local host), with
/// snmp devices polled at a short interval. Stop and start any part; Dispose stops them all.
/// </summary>
public sealed class FaultLab : IAsyncDisposable
{
    public static readonly string[] QueueNames = ["discovery", "poll", "metrics", "failures", "notifications"];

    private readonly FaultLabOptions options;
    private readonly string work;
    private readonly Dictionary<string, string> settings;
    private readonly TextWriter? appLog;
    private string earlierOutput = "";

    private FaultLab(FaultLabOptions options, PostgresCluster postgres, AzuriteServer azurite, SnmpdProcess snmpd, string work)
    {
        this.options = options;
        this.work = work;
        Postgres = postgres;
        Azurite = azurite;
        Snmpd = snmpd;
        BaseAddress = new Uri($"http://127.0.0.1:{FreePort.Tcp()}/api/");
        AdminKey = "nms_lab_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        ConnectionString = postgres.ConnectionString("nms") + ";Maximum Pool Size=20";
        // Unpooled: a pooled connection would not survive the restarts this lab exists for.
        Data = NpgsqlDataSource.Create(ConnectionString + ";Pooling=false");
        settings = AppSettings();
        appLog = options.AppLogPath is { } path ? TextWriter.Synchronized(new StreamWriter(path, append: true) { AutoFlush = true }) : null;
    }

    public PostgresCluster Postgres { get; }
    public AzuriteServer Azurite { get; }
    public SnmpdProcess Snmpd { get; }
    public AppProcess? App { get; private set; }
    public Uri BaseAddress { get; }
    public string AdminKey { get; }
    public string ConnectionString { get; }
    public NpgsqlDataSource Data { get; }
    public TimeSpan Interval => TimeSpan.FromSeconds(options.IntervalSeconds);
    public IReadOnlyList<long> DeviceIds { get; private set; } = [];

    /// <summary>The app's log output (warnings and errors, and what the circuit says), of every app this lab ran.</summary>
    public string AppOutput => earlierOutput + (App?.Output ?? "");

    public static async Task<FaultLab> StartAsync(FaultLabOptions options)
    {
        var work = Directory.CreateTempSubdirectory("nms-lab-").FullName;
        var postgres = await PostgresCluster.StartAsync();
        AzuriteServer? azurite = null;
        SnmpdProcess? snmpd = null;
        try
        {
            azurite = await AzuriteServer.StartAsync();
            snmpd = await SnmpdProcess.StartAsync(new SnmpdOptions { Addresses = [] });
            await using (var admin = new NpgsqlConnection(postgres.ConnectionString()))
            {
                await admin.OpenAsync();
                await using var create = new NpgsqlCommand("CREATE DATABASE nms", admin);
                await create.ExecuteNonQueryAsync();
            }

            var lab = new FaultLab(options, postgres, azurite, snmpd, work);
            await lab.StartAppAsync();
            await lab.AddDevicesAsync();
            return lab;
        }
        catch
        {
            snmpd?.Dispose();
            azurite?.Dispose();
            postgres.Dispose();
            throw;
        }
    }

    public async Task StartAppAsync() => App = await AppProcess.StartAsync(options.LocalHostDll, BaseAddress, settings, log: appLog);

    /// <summary>A line of the lab's own in the app log (what was broken, when), if there is one.</summary>
    public void Mark(string what) => appLog?.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} --- {what} ---");

    /// <summary>SIGKILL the app, then start a new one; returns when the new one answers.</summary>
    public async Task KillAndRestartAppAsync()
    {
        earlierOutput += (App?.Output ?? "") + $"--- {DateTimeOffset.UtcNow:HH:mm:ss.fff} app SIGKILLed ---\n";
        Mark("app SIGKILLed");
        App?.Kill();
        App = null;
        await StartAppAsync();
    }

    public HttpClient Client()
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return client;
    }

    /// <summary>GET /api/health: the open circuits (<c>held_for</c>) and each dependency's check.</summary>
    public async Task<JsonElement> HealthAsync()
    {
        using var client = Client();
        using var response = await client.GetAsync("health");
        return JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync());
    }

    public async Task<bool> CircuitOpenForAsync(string dependency)
    {
        try
        {
            var health = await HealthAsync();
            return health.TryGetProperty("held_for", out var held) && held.EnumerateArray().Any(c => c.GetProperty("dependency").GetString() == dependency);
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>Messages in each <c>&lt;queue&gt;-poison</c>.</summary>
    public async Task<IReadOnlyDictionary<string, int>> PoisonCountsAsync()
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var name in QueueNames)
        {
            var poison = new QueueClient(Azurite.ConnectionString, name + "-poison", new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
            counts[name] = await poison.ExistsAsync() ? (await poison.GetPropertiesAsync()).Value.ApproximateMessagesCount : 0;
        }

        return counts;
    }

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var command = Data.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The oldest of each device's newest sample time: every device has been polled at or after it.</summary>
    public async Task<DateTimeOffset?> AllPolledSinceAsync()
    {
        var value = await ScalarAsync<object>("""
            SELECT min(latest) FROM (
                SELECT d.id, (SELECT max(s.ts) FROM metric_samples s WHERE s.device_id = d.id) AS latest FROM devices d) x
            """);
        return value is DateTime at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null;
    }

    /// <summary>
    /// Each device's gaps longer than one interval plus <paramref name="jitter"/> between polls in [from, until] (the
    /// bounds count as polls): a device missed an interval there. The jitter allows for when in its second a poll ran.
    /// </summary>
    public async Task<IReadOnlyList<string>> GapsAsync(DateTimeOffset from, DateTimeOffset until, TimeSpan jitter)
    {
        await using var command = Data.CreateCommand("""
            WITH bounds AS (
                SELECT id AS device_id, $1::timestamptz AS ts FROM devices
                UNION ALL SELECT id, $2::timestamptz FROM devices
                UNION ALL SELECT DISTINCT device_id, ts FROM metric_samples WHERE ts > $1 AND ts < $2),
            gaps AS (SELECT device_id, ts, ts - lag(ts) OVER (PARTITION BY device_id ORDER BY ts) AS gap FROM bounds)
            SELECT device_id, ts - gap, extract(epoch FROM gap)::float8 FROM gaps WHERE gap > $3 ORDER BY 1, 2
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = from.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = until.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = Interval + jitter });
        var gaps = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            gaps.Add($"device {reader.GetInt64(0)} from {reader.GetDateTime(1):HH:mm:ss.f} for {reader.GetDouble(2):F1} s");
        }

        return gaps;
    }

    public Task<long> DuplicateSamplesAsync() => ScalarAsync<long>(
        "SELECT count(*) FROM (SELECT 1 FROM metric_samples GROUP BY device_id, series_id, ts HAVING count(*) > 1) d");

    public Task<long> InactiveDevicesAsync() => ScalarAsync<long>("SELECT count(*) FROM devices WHERE status <> 'active'");

    public async ValueTask DisposeAsync()
    {
        App?.Dispose();
        if (appLog is not null)
        {
            await appLog.DisposeAsync();
        }

        await Data.DisposeAsync();
        Snmpd.Dispose();
        Azurite.Dispose();
        Postgres.Dispose();
        try
        {
            Directory.Delete(work, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private Dictionary<string, string> AppSettings()
    {
        var hostJson = Path.Combine(work, "host.json");
        File.WriteAllText(hostJson, JsonSerializer.Serialize(new
        {
            version = "2.0",
            functionTimeout = "00:05:00",
            extensions = new
            {
                http = new { routePrefix = "api" },
                queues = new
                {
                    batchSize = 16,
                    newBatchThreshold = 8,
                    maxDequeueCount = options.MaxDequeueCount,
                    visibilityTimeout = options.VisibilityTimeout.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
                    maxPollingInterval = "00:00:00.500",
                },
            },
        }));
        var all = new Dictionary<string, string>
        {
            ["NMS_HOST_JSON"] = hostJson,
            ["NMS_LOCAL_SETTINGS"] = Path.Combine(work, "none.json"),
            ["AzureWebJobsStorage"] = Azurite.ConnectionString,
            ["NmsDiscoveryQueue"] = "discovery",
            ["NmsPollQueue"] = "poll",
            ["NmsMetricsQueue"] = "metrics",
            ["NmsFailuresQueue"] = "failures",
            ["NmsNotificationsQueue"] = "notifications",
            ["NmsSchedulerSchedule"] = "*/1 * * * * *",
            ["NmsMaintenanceSchedule"] = "0 */10 * * * *",
            ["NmsCompactionSchedule"] = "0 0 0 1 1 *",
            ["NmsRecoverySchedule"] = "0 0 0 1 1 *",
            ["NmsAlertingSchedule"] = "0 0 0 1 1 *",
            ["AzureWebJobs.MetricsCompaction.Disabled"] = "true",
            ["AzureWebJobs.HealthRecoveryProbe.Disabled"] = "true",
            ["AzureWebJobs.AlertEvaluation.Disabled"] = "true",
            ["AzureWebJobs.ResealCredentials.Disabled"] = "true",
            ["Nms__Database__ApiConnectionString"] = ConnectionString + ";Application Name=nms-api",
            ["Nms__Database__MetricsConnectionString"] = ConnectionString + ";Application Name=nms-metrics",
            ["Nms__Auth__BootstrapAdminKey"] = AdminKey,
            ["Nms__Crypto__ActiveKeyId"] = "lab1",
            ["Nms__Crypto__Keys__lab1"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Nms__Plugins__Directory"] = options.PluginsDirectory,
            ["Nms__Reachability__FpingPath"] = options.Fping,
            ["Nms__Reachability__TimeoutMilliseconds"] = "500",
            ["Nms__Resilience__ProbeIntervalMilliseconds"] = "500",
            ["Logging__LogLevel__Default"] = options.LogLevel,
            ["Logging__LogLevel__Nms.Core.Resilience"] = "Information",
            ["Logging__Console__FormatterName"] = "simple",
            ["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ",
            ["Logging__Console__FormatterOptions__UseUtcTimestamp"] = "true",
        };
        foreach (var (key, value) in options.Settings)
        {
            all[key] = value;
        }

        return all;
    }

    /// <summary>One v2c credential, the devices through the API, then their first deadlines spread over one interval, so polls (and queue messages) flow all the time rather than in bursts.</summary>
    private async Task AddDevicesAsync()
    {
        using var client = Client();
        var credential = await CreateAsync(client, "credential_profiles", new { name = "lab", protocol = "snmp_v2c", community = "public" });
        var ids = new List<long>();
        for (var i = 0; i < options.Devices; i++)
        {
            var ip = new IPAddress([127, options.Network, (byte)(1 + i / 250), (byte)(1 + i % 250)]).ToString();
            var device = await CreateAsync(client, "devices", new { ip, port = Snmpd.Port, plugin = "snmp", credential_profile_id = credential, poll_interval_seconds = options.IntervalSeconds });
            ids.Add(device);
        }

        DeviceIds = ids;
        await using var spread = Data.CreateCommand("UPDATE poll_schedule SET next_due_at = now() + (device_id % $1) * interval '1 millisecond' * $2");
        spread.Parameters.Add(new NpgsqlParameter { Value = options.Devices });
        spread.Parameters.Add(new NpgsqlParameter { Value = 1000.0 * options.IntervalSeconds / options.Devices });
        await spread.ExecuteNonQueryAsync();
    }

    private static async Task<long> CreateAsync(HttpClient client, string route, object body)
    {
        using var response = await client.PostAsJsonAsync(route, body);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {route}: {(int)response.StatusCode} {text}");
        }

        return JsonSerializer.Deserialize<JsonElement>(text).GetProperty("id").GetInt64();
    }
}
