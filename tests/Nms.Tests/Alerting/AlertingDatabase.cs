using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Nms.Core.Alerting;
using Nms.Core.Configuration;
using Nms.Core.Credentials;
using Nms.Core.Data;
using Nms.Core.Devices;
using Nms.Core.Entities;
using Nms.Core.Queues;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Alerting;

/// <summary>A queue sender that keeps what it was given: the evaluator's relay, observed without a queue.</summary>
public sealed class RecordingQueue : IQueueSender
{
    private readonly List<(string Queue, object Message)> sent = [];

    public IReadOnlyList<NotificationMessage> Notifications
    {
        get
        {
            lock (sent)
            {
                return sent.Select(s => s.Message).OfType<NotificationMessage>().ToList();
            }
        }
    }

    public Task SendAsync<T>(string queueName, T message, CancellationToken cancellationToken)
    {
        lock (sent)
        {
            sent.Add((queueName, message!));
        }

        return Task.CompletedTask;
    }

    public Task SendJsonAsync(string queueName, BinaryData json, CancellationToken cancellationToken)
    {
        lock (sent)
        {
            sent.Add((queueName, json));
        }

        return Task.CompletedTask;
    }
}

/// <summary>The alerting services on a database of their own, with a fake clock: evaluation as the timer runs it, minus the timer.</summary>
public sealed class AlertingDatabase : IAsyncDisposable
{
    private AlertingDatabase(TestDatabase database)
    {
        Database = database;
        var sources = new NmsDataSources(database.DataSource, database.DataSource);
        var crypto = new CryptoOptions { ActiveKeyId = "t1", Keys = { ["t1"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) } };
        Sealer = new SecretSealer(crypto);
        Rules = new AlertRuleService(database.DataSource, Time, NullLogger<AlertRuleService>.Instance);
        Channels = new ChannelService(database.DataSource, Sealer, Time, NullLogger<ChannelService>.Instance);
        Maintenance = new MaintenanceService(database.DataSource, Time, NullLogger<MaintenanceService>.Instance);
        Alerts = new AlertService(database.DataSource, Time, NullLogger<AlertService>.Instance);
        Tags = new TagService(database.DataSource, NullLogger<TagService>.Instance);
        Evaluator = new AlertEvaluator(sources, Queue, new QueueNames("d", "p", "m", "f", "n"), Maintenance, Options, Time, NullLogger<AlertEvaluator>.Instance);
        Delivery = new NotificationDelivery(sources, Channels, new NotificationSender(Options), Options, Time, NullLogger<NotificationDelivery>.Instance);
    }

    public TestDatabase Database { get; }
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    public AlertingOptions Options { get; } = new() { DeliveryTimeoutSeconds = 2 };
    public RecordingQueue Queue { get; } = new();
    public SecretSealer Sealer { get; }
    public AlertRuleService Rules { get; }
    public ChannelService Channels { get; }
    public MaintenanceService Maintenance { get; }
    public AlertService Alerts { get; }
    public TagService Tags { get; }
    public AlertEvaluator Evaluator { get; }
    public NotificationDelivery Delivery { get; }

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

    /// <summary>A sample at the fake clock's now, stored as the metrics writer stores it (series row, hot-table row).</summary>
    public Task SampleAsync(long device, string name, double value, string labels = "{}") =>
        Database.ExecuteAsync(MetricsStoreSql.Sample, device, name, labels, value, Time.GetUtcNow());

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

    public ValueTask DisposeAsync() => Database.DisposeAsync();
}
