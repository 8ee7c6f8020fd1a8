using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Nms.Core.Configuration;
using Nms.Core.Diagnostics;
using Nms.Core.Metrics;
using Nms.Core.Polling;
using Nms.Tests.Polling;

namespace Nms.Tests.Metrics;

/// <summary>The metrics store's parts on one test database, with a fake clock for compaction windows.</summary>
public sealed class MetricsStore : IAsyncDisposable
{
    private readonly NmsInstruments instruments = new();

    private MetricsStore(PollingDatabase db, FakeTimeProvider time, MetricsOptions options)
    {
        Db = db;
        Time = time;
        Options = options;
        Partitions = new MetricsPartitions(db.Data.Metrics, options, time, NullLogger<MetricsPartitions>.Instance);
        Writer = new MetricsWriter(db.Data.Metrics, Partitions, new MetricSeriesCatalog(db.Data.Metrics), instruments, time, NullLogger<MetricsWriter>.Instance);
        Compactor = new MetricsCompactor(db.Data.Api, Partitions, options, time, NullLogger<MetricsCompactor>.Instance);
        Query = new MetricsQuery(db.Data, options, time);
    }

    public PollingDatabase Db { get; }
    public FakeTimeProvider Time { get; }
    public MetricsOptions Options { get; }
    public MetricsPartitions Partitions { get; }
    public MetricsWriter Writer { get; }
    public MetricsCompactor Compactor { get; }
    public MetricsQuery Query { get; }
    public NmsInstruments Instruments => instruments;

    public static async Task<MetricsStore> CreateAsync(DateTimeOffset now, MetricsOptions? options = null)
    {
        var db = new PollingDatabase();
        await db.InitializeAsync();
        return new MetricsStore(db, new FakeTimeProvider(now), options ?? new MetricsOptions());
    }

    public async Task<long> DeviceAsync() => await Db.ScalarAsync<long>(
        "INSERT INTO devices (ip, port, plugin, poll_interval_seconds, created_at, updated_at) VALUES ('127.0.0.1', 161, 'snmp', 60, now(), now()) RETURNING id");

    public Task<int> WriteAsync(params MetricSample[] samples) => Writer.WriteAsync(new MetricsBatchMessage(Guid.NewGuid(), samples), CancellationToken.None);

    /// <summary>A series' samples at <paramref name="start"/> + i * <paramref name="every"/>.</summary>
    public static MetricSample[] Series(long device, string name, DateTimeOffset start, TimeSpan every, IEnumerable<double> values, IReadOnlyDictionary<string, string>? labels = null, string? kind = null, int? bits = null) =>
        values.Select((v, i) => new MetricSample(device, name, v, labels, start + every * i, kind, bits)).ToArray();

    public Task<MetricsResponse> GetAsync(long device, string query) =>
        Query.SeriesAsync(device, Query.Parse(ParseQuery(query)), CancellationToken.None);

    public static IEnumerable<KeyValuePair<string, string?>> ParseQuery(string query) =>
        query.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2)).Select(p => new KeyValuePair<string, string?>(Uri.UnescapeDataString(p[0]), p.Length > 1 ? Uri.UnescapeDataString(p[1]) : ""));

    public static string Q(DateTimeOffset t) => Uri.EscapeDataString(t.ToString("O", CultureInfo.InvariantCulture));

    public async ValueTask DisposeAsync()
    {
        instruments.Dispose();
        await Db.DisposeAsync();
    }
}
