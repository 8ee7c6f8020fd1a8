using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Azure.Storage.Queues;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nms.Core.Configuration;
using Nms.Core.Queues;
using Nms.Functions.LocalHost;

namespace Nms.Tests.Infrastructure;

public sealed class TestAppOptions
{
    /// <summary>Settings over the defaults below (env-style names with __ or config names with :).</summary>
    public Dictionary<string, string?> Settings { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Timer functions are off unless a test turns them on: they would poll devices other tests create.</summary>
    public bool EnableTimers { get; set; }

    /// <summary>Timer functions to run even when <see cref="EnableTimers"/> is off.</summary>
    public HashSet<string> EnabledTimers { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Also host the [Function]s defined in the test assembly (Foundation tests).</summary>
    public bool IncludeTestFunctions { get; set; }

    public Action<IServiceCollection>? ConfigureServices { get; set; }

    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>host.json for the test: fast polling and retries by default.</summary>
    public QueueSettings Queues { get; set; } = new(BatchSize: 16, NewBatchThreshold: 8, MaxDequeueCount: 3, VisibilityTimeout: TimeSpan.Zero, MaxPollingInterval: TimeSpan.FromMilliseconds(250));

    /// <summary>An existing database to use instead of a fresh one (the app does not drop it).</summary>
    public TestDatabase? Database { get; set; }
}

/// <summary>
/// The whole app on the local host, in-process, on its own port, database and queue names, with
/// real PostgreSQL and Azurite: what a user meets, minus the Functions host itself.
/// </summary>
public sealed class TestApp : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly bool ownsDatabase;
    private readonly string workDirectory;

    private TestApp(WebApplication app, TestDatabase database, bool ownsDatabase, QueueNames queues, string adminKey, Uri baseAddress, CapturedLogs logs, string workDirectory)
    {
        this.app = app;
        this.ownsDatabase = ownsDatabase;
        this.workDirectory = workDirectory;
        Database = database;
        Queues = queues;
        AdminKey = adminKey;
        BaseAddress = baseAddress;
        Logs = logs;
        Client = CreateClient(adminKey);
        Anonymous = CreateClient(null);
    }

    public TestDatabase Database { get; }
    public QueueNames Queues { get; }
    public string AdminKey { get; }
    public Uri BaseAddress { get; }
    public CapturedLogs Logs { get; }

    /// <summary>Authenticated with the bootstrap admin key.</summary>
    public HttpClient Client { get; }

    public HttpClient Anonymous { get; }

    public IServiceProvider Services => app.Services;

    public static JsonSerializerOptions Json => NmsJson.Api;

    public static async Task<TestApp> StartAsync(Action<TestAppOptions>? configure = null)
    {
        var options = new TestAppOptions();
        configure?.Invoke(options);
        var database = options.Database ?? await TestDatabase.CreateAsync();
        var work = Directory.CreateTempSubdirectory("nms-app-").FullName;
        var port = FreeTcpPort();
        var prefix = "t" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var queues = new QueueNames($"{prefix}-discovery", $"{prefix}-poll", $"{prefix}-metrics", $"{prefix}-failures");
        var adminKey = "nms_test_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var logs = new CapturedLogs();

        var host = new LocalHostOptions { Urls = $"http://127.0.0.1:{port}", LocalSettingsPath = Path.Combine(work, "none.json"), ShutdownGrace = options.ShutdownGrace };
        host.HostJsonPath = WriteHostJson(work, options.Queues);
        if (options.IncludeTestFunctions)
        {
            host.FunctionAssemblies.Add(typeof(TestApp).Assembly);
        }

        foreach (var (key, value) in DefaultSettings(database, queues, adminKey, prefix))
        {
            host.Settings[key] = value;
        }

        foreach (var (key, value) in options.Settings)
        {
            host.Settings[key] = value;
        }

        var timers = FunctionCatalog.Discover(host.FunctionAssemblies).Where(f => f.Kind == TriggerKind.Timer);
        foreach (var timer in timers.Where(t => !options.EnableTimers && !options.EnabledTimers.Contains(t.Name)))
        {
            host.Settings.TryAdd($"AzureWebJobs.{timer.Name}.Disabled", "true");
        }

        host.ConfigureLogging = logging =>
        {
            logging.ClearProviders();
            logging.AddProvider(logs);
            logging.SetMinimumLevel(LogLevel.Debug);
        };
        host.ConfigureServices = options.ConfigureServices;

        var app = LocalFunctionsHost.Build(host);
        await app.StartAsync();
        return new TestApp(app, database, options.Database is null, queues, adminKey, new Uri($"http://127.0.0.1:{port}/api/"), logs, work);
    }

    public static Dictionary<string, string?> DefaultSettings(TestDatabase database, QueueNames queues, string adminKey, string prefix) => new()
    {
        ["AzureWebJobsStorage"] = TestEnvironment.Azurite,
        [QueueNames.DiscoverySetting] = queues.Discovery,
        [QueueNames.PollSetting] = queues.Poll,
        [QueueNames.MetricsSetting] = queues.Metrics,
        [QueueNames.FailuresSetting] = queues.Failures,
        ["NmsSchedulerSchedule"] = "*/2 * * * * *",
        ["NmsMaintenanceSchedule"] = "0 */10 * * * *",
        ["NmsRecoverySchedule"] = "*/2 * * * * *",
        ["NmsCompactionSchedule"] = "0 0 0 1 1 *",
        ["Nms:Database:ApiConnectionString"] = database.ConnectionString + ";Application Name=nms-api",
        ["Nms:Database:MetricsConnectionString"] = database.ConnectionString + ";Application Name=nms-metrics",
        ["Nms:Database:MigrateOnStartup"] = "true",
        ["Nms:Auth:BootstrapAdminKey"] = adminKey,
        ["Nms:Crypto:ActiveKeyId"] = "test1",
        ["Nms:Crypto:Keys:test1"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        ["Nms:Plugins:Directory"] = Environment.GetEnvironmentVariable("NMS_PLUGINS_DIR") ?? "",
        ["Nms:Reachability:FpingPath"] = TestEnvironment.Fping,
        ["TestPrefix"] = prefix,
    };

    /// <summary>A Base64 client for one of this app's queues (or any queue name).</summary>
    public QueueClient Queue(string name)
    {
        var queue = new QueueClient(TestEnvironment.Azurite, name, StorageQueues.ClientOptions());
        queue.CreateIfNotExists();
        return queue;
    }

    public async Task SendAsync<T>(string queueName, T message) =>
        await Queue(queueName).SendMessageAsync(BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(message, NmsJson.Queue)));

    public HttpClient CreateClient(string? apiKey)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    /// <summary>Waits until <paramref name="condition"/> holds, or fails the test with <paramref name="what"/>.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"Timed out waiting for: {what}");
    }

    public async Task StopAsync() => await app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Anonymous.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
        if (ownsDatabase)
        {
            await Database.DisposeAsync();
        }

        Directory.Delete(workDirectory, recursive: true);
    }

    private static string WriteHostJson(string directory, QueueSettings queues)
    {
        var path = Path.Combine(directory, "host.json");
        var document = new
        {
            version = "2.0",
            functionTimeout = "00:05:00",
            extensions = new
            {
                http = new { routePrefix = "api" },
                queues = new
                {
                    batchSize = queues.BatchSize,
                    newBatchThreshold = queues.NewBatchThreshold,
                    maxDequeueCount = queues.MaxDequeueCount,
                    visibilityTimeout = queues.VisibilityTimeout.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
                    maxPollingInterval = queues.MaxPollingInterval.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
                },
            },
        };
        File.WriteAllText(path, JsonSerializer.Serialize(document));
        return path;
    }

    private static int FreeTcpPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
