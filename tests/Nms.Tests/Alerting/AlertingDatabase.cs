using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Nms.Core.Alerting;
using Nms.Core.Configuration;
using Nms.Core.Credentials;
using Nms.Core.Data;
using Nms.Core.Devices;
using Nms.Core.Diagnostics;
using Nms.Core.Entities;
using Nms.Core.Metrics;
using Nms.Core.Queues;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Alerting;

/// <summary>A queue sender that keeps what it was given: the evaluator's relay, observed without a queue.</summary>
public sealed class RecordingQueue : IQueueSender
{
    private readonly List<(string Queue, object Message, TimeSpan Delay)> sent = [];

    /// <summary>Notification messages the evaluator's relay sent: not delayed (a retry), not to a poison queue.</summary>
    public IReadOnlyList<NotificationMessage> Notifications =>
        Sent<NotificationMessage>().Where(s => s.Delay == TimeSpan.Zero && !s.Queue.EndsWith("-poison", StringComparison.Ordinal)).Select(s => s.Message).ToList();

    public IReadOnlyList<(string Queue, T Message, TimeSpan Delay)> Sent<T>()
    {
        lock (sent)
        {
            return sent.Where(s => s.Message is T).Select(s => (s.Queue, (T)s.Message, s.Delay)).ToList();
        }
    }

    public Task SendAsync<T>(string queueName, T message, CancellationToken cancellationToken) => SendLaterAsync(queueName, message, TimeSpan.Zero, cancellationToken);

    public Task SendLaterAsync<T>(string queueName, T message, TimeSpan visibilityDelay, CancellationToken cancellationToken)
    {
        lock (sent)
        {
            sent.Add((queueName, message!, visibilityDelay));
        }

        return Task.CompletedTask;
    }

    public Task SendJsonAsync(string queueName, BinaryData json, CancellationToken cancellationToken) => SendAsync(queueName, json, cancellationToken);
}

/// <summary>The alerting services on a database of their own, with a fake clock: evaluation as the timer runs it, minus the timer.</summary>
public sealed class AlertingDatabase : IAsyncDisposable
{
    private readonly NmsInstruments instruments = new();
    private readonly ILoggerFactory loggers;

    private AlertingDatabase(TestDatabase database)
    {
        loggers = LoggerFactory.Create(builder => builder.AddProvider(Logs).SetMinimumLevel(LogLevel.Debug));
        Database = database;
        var sources = new NmsDataSources(database.DataSource, database.DataSource);
        var crypto = new CryptoOptions { ActiveKeyId = "t1", Keys = { ["t1"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) } };
        Sealer = new SecretSealer(crypto);
        Rules = new AlertRuleService(database.DataSource, Time, NullLogger<AlertRuleService>.Instance);
        Channels = new ChannelService(database.DataSource, Sealer, Time, NullLogger<ChannelService>.Instance);
        Maintenance = new MaintenanceService(database.DataSource, Time, NullLogger<MaintenanceService>.Instance);
        Alerts = new AlertService(database.DataSource, Time, NullLogger<AlertService>.Instance);
        Tags = new TagService(database.DataSource, NullLogger<TagService>.Instance);
        Evaluator = new AlertEvaluator(sources, Queue, QueueNames, Maintenance, Options, Time, NullLogger<AlertEvaluator>.Instance);
        Delivery = new NotificationDelivery(sources, Channels, new NotificationSender(Options), Queue, QueueNames, Options, Time, loggers.CreateLogger<NotificationDelivery>());
        var partitions = new MetricsPartitions(database.DataSource, new MetricsOptions(), Time, NullLogger<MetricsPartitions>.Instance);
        Metrics = new MetricsWriter(database.DataSource, partitions, new MetricSeriesCatalog(database.DataSource), instruments, Time, NullLogger<MetricsWriter>.Instance);
    }

    public TestDatabase Database { get; }
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    public AlertingOptions Options { get; } = new() { DeliveryTimeoutSeconds = 2 };
    public RecordingQueue Queue { get; } = new();

    /// <summary>What the delivery consumer logged.</summary>
    public CapturedLogs Logs { get; } = new();
    public QueueNames QueueNames { get; } = new("d", "p", "m", "f", "n");
    public SecretSealer Sealer { get; }
    public AlertRuleService Rules { get; }
    public ChannelService Channels { get; }
    public MaintenanceService Maintenance { get; }
    public AlertService Alerts { get; }
    public TagService Tags { get; }
    public AlertEvaluator Evaluator { get; }
    public NotificationDelivery Delivery { get; }

    /// <summary>The metrics queue's writer (core/Metrics): samples reach the evaluator through the real ingest path.</summary>
    public MetricsWriter Metrics { get; }

    public static async Task<AlertingDatabase> CreateAsync() => new(await TestDatabase.CreateAsync());

    public Task<long> AddDeviceAsync(string ip, params string[] tags) => AddNamedDeviceAsync(ip, hostname: null, tags);

    /// <summary>Provisioned through the device lifecycle, as the app does, then tagged.</summary>
    public async Task<long> AddNamedDeviceAsync(string ip, string? hostname, params string[] tags)
    {
        var id = await Database.DataSource.AddDeviceAsync(new DeviceProvision(IPAddress.Parse(ip), 161, "snmp", 60, Hostname: hostname));
        if (tags.Length > 0)
        {
            await Tags.SetDeviceTagsAsync(id, new TagsRequest(tags), CancellationToken.None);
        }

        return id;
    }

    /// <summary>Deactivated as the health monitor does it (reason ping/poll), through the device lifecycle.</summary>
    public Task DeactivateAsync(long device, string reason = "poll") =>
        Database.DataSource.InTransactionAsync((connection, transaction) =>
            DeviceLifecycle.DeactivateForFailuresAsync(connection, transaction, device, reason, "snmp timeout", Time.GetUtcNow(), Time.GetUtcNow().AddHours(1), CancellationToken.None));

    public Task ReactivateAsync(long device) => Database.DataSource.ReactivateByOperatorAsync(device, 60, Time.GetUtcNow());

    /// <summary>A sample at the fake clock's now, written by the metrics writer as a one-sample batch from the metrics queue.</summary>
    public Task SampleAsync(long device, string name, double value, string labels = "{}") =>
        Metrics.WriteAsync(new MetricsBatchMessage(Guid.NewGuid(), [new MetricSample(device, name, value, JsonSerializer.Deserialize<Dictionary<string, string>>(labels), Time.GetUtcNow())]), CancellationToken.None);

    public const string SigningSecret = "0123456789abcdef-secret";

    public async Task<long> ChannelAsync(string name, string url, bool sendResolved = true, bool routeAll = false) =>
        (await Channels.CreateAsync(new ChannelRequest(Name: name, Kind: "webhook", Url: url, SigningSecret: SigningSecret, SendResolved: sendResolved, RouteAll: routeAll), CancellationToken.None)).Id;

    public Task<EvaluationResult> EvaluateAsync() => Evaluator.EvaluateAsync(CancellationToken.None);

    /// <summary>Outbox rows as "transition@channel", in order.</summary>
    public async Task<List<string>> OutboxAsync()
    {
        var rows = new List<string>();
        await using var command = Database.DataSource.CreateCommand("SELECT split_part(transition, ':', 1) || '@' || channel_id FROM alert_notifications ORDER BY id");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    public Task<long> CountAsync(string sql, params object[] parameters) => Database.ScalarAsync<long>(sql, parameters);

    public ValueTask DisposeAsync()
    {
        instruments.Dispose();
        loggers.Dispose();
        return Database.DisposeAsync();
    }
}
