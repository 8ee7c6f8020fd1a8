using Microsoft.Extensions.Logging.Abstractions;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Metrics;

namespace Nms.Tests.Metrics;

/// <summary>The old <c>metrics</c> rows move into the v2 store, in batches, resumably, under the migration lock.</summary>
public sealed class MetricsBackfillTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Day = new(2026, 3, 8, 0, 0, 0, TimeSpan.Zero);

    private MetricsStore store = null!;

    public async Task InitializeAsync()
    {
        store = await MetricsStore.CreateAsync(Day.AddDays(2));
        await store.Db.ExecuteAsync("SELECT nms_ensure_metrics_partition($1::date)", Day.UtcDateTime);
        // 2 devices x (cpu, 2 interfaces of if_in_octets_total) x 10 samples, plus one row the default caught.
        await store.Db.ExecuteAsync("""
            INSERT INTO metrics (device_id, name, labels, value, ts)
            SELECT d, n, l::jsonb, d * 1000 + i, $1::timestamptz + i * interval '1 minute'
            FROM generate_series(1, 2) d, generate_series(0, 9) i,
                 (VALUES ('cpu', '{}'), ('if_in_octets_total', '{"if_index": "1"}'), ('if_in_octets_total', '{"if_index": "2"}')) AS s(n, l)
            """, Day.UtcDateTime);
        await store.Db.ExecuteAsync("INSERT INTO metrics (device_id, name, labels, value, ts) VALUES (1, 'cpu', '{}', 7, $1)", Day.AddDays(40).UtcDateTime);
    }

    public async Task DisposeAsync() => await store.DisposeAsync();

    private MetricsBackfill Backfill() => new(new MetricsOptions { BackfillBatchSize = 7 }, NullLogger<MetricsBackfill>.Instance);

    [Fact]
    public async Task Every_old_row_moves_once_with_its_series_and_kind()
    {
        await using var connection = await store.Db.Data.Api.OpenConnectionAsync();

        var moved = await Backfill().RunAsync(connection, int.MaxValue, CancellationToken.None);

        Assert.Equal(61, moved);
        Assert.Equal(0L, await store.Db.ScalarAsync<long>("SELECT count(*) FROM metrics"));
        Assert.Equal(61L, await store.Db.ScalarAsync<long>("SELECT count(*) FROM metric_samples"));
        Assert.Equal(6L, await store.Db.ScalarAsync<long>("SELECT count(*) FROM metric_series"));
        Assert.Equal("counter:64", await store.Db.ScalarAsync<string>("SELECT DISTINCT kind || ':' || counter_bits FROM metric_series WHERE name = 'if_in_octets_total'"));
        Assert.Equal(2009.0, await store.Db.ScalarAsync<double>(
            "SELECT h.value FROM metric_samples h JOIN metric_series s ON s.id = h.series_id WHERE s.device_id = 2 AND s.labels = '{\"if_index\": \"2\"}' AND h.ts = $1", Day.AddMinutes(9).UtcDateTime));
        Assert.Equal($"metric_polls_p{Day:yyyyMMdd}", await store.Db.ScalarAsync<string>("SELECT tableoid::regclass::text FROM metric_polls WHERE ts = $1 LIMIT 1", Day.UtcDateTime));
        Assert.Equal("metrics_default", await store.Db.ScalarAsync<string>("SELECT string_agg(c.relname, ',') FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'metrics'::regclass"));
    }

    [Fact]
    public async Task Rows_of_the_one_row_per_sample_hot_table_move_into_one_row_per_poll_and_the_old_table_goes()
    {
        // What 050 left in its hot table, in a day partition named as 050 named them: device 5 polled twice (3 series, then 1).
        var day = Day.AddDays(1);
        await store.Db.ExecuteAsync($"CREATE TABLE metric_samples_p{day:yyyyMMdd} PARTITION OF metric_samples_050 FOR VALUES FROM ('{day:O}') TO ('{day.AddDays(1):O}')");
        await store.Db.ExecuteAsync("""
            INSERT INTO metric_samples_050 (device_id, series_id, ts, value)
            VALUES (5, 11, $1, 1.5), (5, 12, $1, 2.5), (5, 13, $1, 3.5), (5, 11, $1 + interval '1 minute', 4.5)
            """, Day.AddDays(1).UtcDateTime);
        await using var connection = await store.Db.Data.Api.OpenConnectionAsync();

        await Backfill().RunAsync(connection, int.MaxValue, CancellationToken.None);

        Assert.True(await store.Db.ScalarAsync<bool>("SELECT to_regclass('metric_samples_050') IS NULL"));
        Assert.Equal(2L, await store.Db.ScalarAsync<long>("SELECT count(*) FROM metric_polls WHERE device_id = 5"));
        Assert.Equal("11:1.5,12:2.5,13:3.5,11:4.5", await store.Db.ScalarAsync<string>(
            "SELECT string_agg(series_id || ':' || value, ',' ORDER BY ts, series_id) FROM metric_samples WHERE device_id = 5"));
        Assert.Equal($"metric_polls_p{Day.AddDays(1):yyyyMMdd}", await store.Db.ScalarAsync<string>("SELECT DISTINCT tableoid::regclass::text FROM metric_polls WHERE device_id = 5"));
    }

    [Fact]
    public async Task A_backfill_stopped_halfway_resumes_and_loses_nothing()
    {
        await using (var connection = await store.Db.Data.Api.OpenConnectionAsync())
        {
            // The old hot table's empty default partition, the default partition's one row (and the batch that finds it empty), then 7 of the day's.
            var first = await Backfill().RunAsync(connection, 4, CancellationToken.None);
            Assert.Equal(8, first);
        }

        Assert.Equal(53L, await store.Db.ScalarAsync<long>("SELECT count(*) FROM metrics"));
        Assert.Equal(8L, await store.Db.ScalarAsync<long>("SELECT count(*) FROM metric_samples"));

        // The rest runs where it runs in production: in the migration runner, under its lock.
        await new MigrationRunner(store.Db.Data.Api, NullLogger<MigrationRunner>.Instance, [Backfill()]).MigrateAsync(CancellationToken.None);

        Assert.Equal(0L, await store.Db.ScalarAsync<long>("SELECT count(*) FROM metrics"));
        Assert.Equal(61L, await store.Db.ScalarAsync<long>("SELECT count(*) FROM metric_samples"));
        Assert.Equal(61L, await store.Db.ScalarAsync<long>("SELECT count(DISTINCT (series_id, ts)) FROM metric_samples"));
    }
}
