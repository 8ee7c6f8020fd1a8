using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Nms.Core.Configuration;
using Nms.Core.Diagnostics;
using Nms.Core.Metrics;
using Nms.Core.Polling;
using Nms.Tests.Polling;

namespace Nms.Tests.Metrics;

public sealed class MetricsWriterTests : IAsyncLifetime, IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 9, 30, 0, TimeSpan.Zero);

    private readonly PollingDatabase db = new();
    private readonly FakeTimeProvider time = new(Now);
    private readonly NmsInstruments instruments = new();

    public Task InitializeAsync() => db.InitializeAsync();

    public Task DisposeAsync() => db.DisposeAsync();

    public void Dispose() => instruments.Dispose();

    private MetricsPartitions Partitions(int daysAhead = 2, int retentionDays = 7) =>
        new(db.Data.Metrics, new MetricsOptions { PartitionDaysAhead = daysAhead, RetentionDays = retentionDays }, time, NullLogger<MetricsPartitions>.Instance);

    private MetricsWriter Writer(MetricsPartitions? partitions = null) =>
        new(db.Data.Metrics, partitions ?? Partitions(), instruments, time, NullLogger<MetricsWriter>.Instance);

    private static MetricsBatchMessage Batch(int rows, DateTimeOffset? ts = null) => new(
        Guid.NewGuid(),
        Enumerable.Range(0, rows).Select(i => new MetricSample(
            1 + (i % 3), i % 2 == 0 ? "cpu" : "if_in_octets", i * 1.5,
            i % 2 == 0 ? null : new Dictionary<string, string> { ["if_index"] = (i % 4).ToString(System.Globalization.CultureInfo.InvariantCulture) },
            (ts ?? Now).AddSeconds(i))).ToList());

    private Task<long> RowsAsync() => db.ScalarAsync<long>("SELECT count(*) FROM metrics");

    [Fact]
    public async Task A_batch_is_written_with_its_values_labels_and_timestamps()
    {
        var batch = Batch(10);

        var written = await Writer().WriteAsync(batch, CancellationToken.None);

        Assert.Equal(10, written);
        Assert.Equal(10, await RowsAsync());
        Assert.Equal(7.5, await db.ScalarAsync<double>("SELECT value FROM metrics WHERE ts = $1", Now.AddSeconds(5).UtcDateTime));
        Assert.Equal("{\"if_index\": \"1\"}", await db.ScalarAsync<string>("SELECT labels::text FROM metrics WHERE ts = $1", Now.AddSeconds(5).UtcDateTime));
        Assert.Equal("{}", await db.ScalarAsync<string>("SELECT labels::text FROM metrics WHERE ts = $1", Now.AddSeconds(4).UtcDateTime));
        Assert.Equal(10, await db.ScalarAsync<int>("SELECT row_count FROM metric_batches WHERE batch_id = $1", batch.BatchId));
    }

    [Fact]
    public async Task The_same_batch_delivered_twice_is_written_once()
    {
        var batch = Batch(20);
        var writer = Writer();

        var first = await writer.WriteAsync(batch, CancellationToken.None);
        var second = await writer.WriteAsync(batch, CancellationToken.None);

        Assert.Equal((20, 0), (first, second));
        Assert.Equal(20, await RowsAsync());
    }

    [Fact]
    public async Task The_same_batch_delivered_to_several_writers_at_once_is_written_once()
    {
        var batch = Batch(500);
        var writers = Enumerable.Range(0, 4).Select(_ => Writer()).ToList();

        var written = await Task.WhenAll(writers.Select(w => Task.Run(() => w.WriteAsync(batch, CancellationToken.None))));

        Assert.Equal([0, 0, 0, 500], written.Order());
        Assert.Equal(500, await RowsAsync());
    }

    [Fact]
    public async Task Samples_land_in_their_own_days_partition_created_at_first_write()
    {
        var tomorrow = Now.AddDays(1);

        await Writer().WriteAsync(Batch(3, tomorrow), CancellationToken.None);

        Assert.Equal($"metrics_p{tomorrow:yyyyMMdd}", await db.ScalarAsync<string>("SELECT DISTINCT tableoid::regclass::text FROM metrics"));
    }

    [Fact]
    public async Task Maintenance_creates_partitions_ahead_and_drops_those_past_retention()
    {
        var partitions = Partitions(daysAhead: 2, retentionDays: 7);
        await Writer(partitions).WriteAsync(Batch(4, Now.AddDays(-9)), CancellationToken.None);
        await Writer(partitions).WriteAsync(Batch(4, Now.AddDays(-3)), CancellationToken.None);

        var result = await partitions.MaintainAsync(CancellationToken.None);

        var names = await PartitionNamesAsync();
        Assert.Equal(
            new[] { Now.AddDays(-3), Now, Now.AddDays(1), Now.AddDays(2) }.Select(d => $"metrics_p{d:yyyyMMdd}").Append("metrics_default").Order(StringComparer.Ordinal),
            names);
        Assert.Equal(1, result.Dropped);
        Assert.Equal(4, await RowsAsync());
    }

    [Fact]
    public async Task Rows_caught_by_the_default_partition_move_into_their_day_when_it_is_created()
    {
        var day = Now.AddDays(20);
        await db.ExecuteAsync("INSERT INTO metrics (device_id, name, value, ts) VALUES (1, 'early', 1, $1)", day.UtcDateTime);
        Assert.Equal("metrics_default", await db.ScalarAsync<string>("SELECT tableoid::regclass::text FROM metrics"));

        await Writer().WriteAsync(Batch(2, day), CancellationToken.None);

        Assert.Equal(3, await RowsAsync());
        Assert.Equal($"metrics_p{day:yyyyMMdd}", await db.ScalarAsync<string>("SELECT string_agg(DISTINCT tableoid::regclass::text, ',') FROM metrics"));
    }

    [Fact]
    public async Task The_writer_counts_the_rows_it_writes()
    {
        long counted = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument, instruments.RowsWritten))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, state) => Interlocked.Add(ref counted, value));
        listener.Start();

        await Writer().WriteAsync(Batch(7), CancellationToken.None);

        Assert.Equal(7, Interlocked.Read(ref counted));
    }

    private async Task<IReadOnlyList<string>> PartitionNamesAsync()
    {
        var names = await db.ScalarAsync<string>("SELECT string_agg(c.relname, ',' ORDER BY c.relname COLLATE \"C\") FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'metrics'::regclass");
        return names.Split(',');
    }
}
