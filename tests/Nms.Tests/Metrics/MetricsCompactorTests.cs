using Nms.Core.Metrics;

namespace Nms.Tests.Metrics;

/// <summary>Compaction on a fake clock: windows of 2 hours starting at even hours, taken once closed 3 hours ago.</summary>
public sealed class MetricsCompactorTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Six = new(2026, 3, 10, 6, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    private MetricsStore store = null!;
    private long device;

    public async Task InitializeAsync()
    {
        store = await MetricsStore.CreateAsync(Six.AddHours(6));
        device = await store.DeviceAsync();
        // 06:00 .. 11:59 every minute: a gauge 0..359 and a counter +10 a minute that resets to 0 at 07:00.
        await store.WriteAsync(MetricsStore.Series(device, "cpu", Six, Minute, Enumerable.Range(0, 360).Select(i => (double)i)));
        await store.WriteAsync(MetricsStore.Series(device, "if_in_octets_total", Six, Minute, Enumerable.Range(0, 360).Select(i => (double)(i < 60 ? 1000 + i * 10 : (i - 60) * 10))));
    }

    public async Task DisposeAsync() => await store.DisposeAsync();

    private Task<long> HotAsync(string where = "true") => store.Db.ScalarAsync<long>($"SELECT count(*) FROM metric_samples WHERE {where}");

    private Task<long> BlocksAsync() => store.Db.ScalarAsync<long>("SELECT count(*) FROM metric_blocks");

    [Fact]
    public async Task A_closed_window_becomes_one_block_per_series_and_its_hot_rows_go()
    {
        var result = await store.Compactor.CompactAsync(CancellationToken.None);

        Assert.Equal((240L, 2), (result.Samples, result.Blocks));
        Assert.Equal(2, await BlocksAsync());
        Assert.Equal(120, await store.Db.ScalarAsync<int>("SELECT min(sample_count) FROM metric_blocks"));
        Assert.Equal(0, await HotAsync($"ts < '{Six.AddHours(2):O}'"));
        Assert.Equal(480, await HotAsync());
        Assert.Equal(Six.AddHours(2).UtcDateTime, await store.Db.ScalarAsync<DateTime>("SELECT compacted_until FROM metric_compaction"));
    }

    [Fact]
    public async Task Queries_read_blocks_and_hot_rows_as_one_series()
    {
        await store.Compactor.CompactAsync(CancellationToken.None);

        var body = await store.GetAsync(device, $"name=cpu&from={MetricsStore.Q(Six)}&to={MetricsStore.Q(Six.AddHours(6))}");

        var points = Assert.Single(body.Series).Points;
        Assert.Equal(Enumerable.Range(0, 360).Select(i => (double)i), points.Select(p => p.Value!.Value));
        Assert.Equal(Six.AddMinutes(359), points[^1].Ts);
    }

    [Fact]
    public async Task A_raw_read_plans_only_the_shared_times_partitions_of_its_windows()
    {
        await store.Compactor.CompactAsync(CancellationToken.None);
        await store.Partitions.EnsureAsync(store.Partitions.BlockTimes, [Six.AddDays(-2), Six.AddDays(-1), Six.AddDays(1)], CancellationToken.None);
        var ids = await store.Db.ScalarAsync<long[]>("SELECT array_agg(id) FROM metric_series WHERE device_id = $1", device);

        await using var explain = store.Db.Data.Api.CreateCommand("EXPLAIN (COSTS OFF) " + MetricsSql.Blocks);
        foreach (var value in new object[] { device, ids, Six.UtcDateTime, Six.AddHours(2).UtcDateTime, TimeSpan.FromHours(2) })
        {
            explain.Parameters.Add(new Npgsql.NpgsqlParameter { Value = value });
        }

        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }
        }

        var scanned = plan.SelectMany(l => System.Text.RegularExpressions.Regex.Matches(l, @"metric_block_times_(p\d{8}|default)").Select(m => m.Value)).Distinct().Order().ToList();
        Assert.Equal(["metric_block_times_p20260310"], scanned);
        var body = await store.GetAsync(device, $"name=cpu&from={MetricsStore.Q(Six)}&to={MetricsStore.Q(Six.AddHours(2))}");
        Assert.Equal(120, Assert.Single(body.Series).Points.Count);
    }

    [Fact]
    public async Task Rollups_hold_min_max_avg_count_last_and_the_reset_aware_increase()
    {
        await store.Compactor.CompactAsync(CancellationToken.None);

        var cpu = await store.Db.ScalarAsync<string>(
            "SELECT concat_ws(',', r.sample_count, r.min, r.max, r.sum / r.sample_count, r.last) FROM metric_rollups_5m r JOIN metric_series s ON s.id = r.series_id WHERE s.name = 'cpu' AND r.bucket = $1",
            Six.AddMinutes(10).UtcDateTime);
        Assert.Equal("5,10,14,12,14", cpu);
        Assert.Equal(24L, await store.Db.ScalarAsync<long>("SELECT count(*) FROM metric_rollups_5m r JOIN metric_series s ON s.id = r.series_id WHERE s.name = 'cpu'"));

        // 06:00-07:00: 59 intervals of +10. 07:00-08:00: the reset (1590 -> 0) counts 0, then 59 intervals of +10.
        var increases = await store.Db.ScalarAsync<string>(
            "SELECT string_agg(r.increase::text || '/' || r.increase_seconds::text, ',' ORDER BY r.bucket) FROM metric_rollups_1h r JOIN metric_series s ON s.id = r.series_id WHERE s.name = 'if_in_octets_total'");
        Assert.Equal("590/3540,590/3600", increases);
    }

    [Fact]
    public async Task A_rerun_does_nothing()
    {
        await store.Compactor.CompactAsync(CancellationToken.None);
        var blocks = await store.Db.ScalarAsync<string>("SELECT string_agg(md5(data), ',' ORDER BY series_id) FROM metric_blocks");

        var again = await store.Compactor.CompactAsync(CancellationToken.None);

        Assert.Equal((0L, 0), (again.Samples, again.Blocks));
        Assert.Equal(blocks, await store.Db.ScalarAsync<string>("SELECT string_agg(md5(data), ',' ORDER BY series_id) FROM metric_blocks"));
        Assert.Equal(480, await HotAsync());
    }

    [Fact]
    public async Task The_next_window_continues_the_counter_from_the_previous_block()
    {
        await store.Compactor.CompactAsync(CancellationToken.None);
        store.Time.Advance(TimeSpan.FromHours(2));

        await store.Compactor.CompactAsync(CancellationToken.None);

        Assert.Equal(4, await BlocksAsync());
        // 08:00's interval starts at 07:59 (in the previous block): 60 intervals of +10.
        Assert.Equal(600.0, await store.Db.ScalarAsync<double>(
            "SELECT r.increase FROM metric_rollups_1h r JOIN metric_series s ON s.id = r.series_id WHERE s.name = 'if_in_octets_total' AND r.bucket = $1", Six.AddHours(2).UtcDateTime));
    }

    [Fact]
    public async Task A_compaction_that_fails_halfway_leaves_the_hot_rows_and_writes_no_block()
    {
        await store.Db.ExecuteAsync("""
            CREATE FUNCTION fail_rollup() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;
            CREATE TRIGGER fail_rollup BEFORE INSERT ON metric_rollups_1h FOR EACH ROW EXECUTE FUNCTION fail_rollup();
            """);

        await Assert.ThrowsAnyAsync<Npgsql.PostgresException>(() => store.Compactor.CompactAsync(CancellationToken.None));

        Assert.Equal(720, await HotAsync());
        Assert.Equal(0, await BlocksAsync());
        Assert.Equal(0L, await store.Db.ScalarAsync<long>("SELECT count(*) FROM metric_rollups_5m"));

        await store.Db.ExecuteAsync("DROP TRIGGER fail_rollup ON metric_rollups_1h");
        var result = await store.Compactor.CompactAsync(CancellationToken.None);
        Assert.Equal(240, result.Samples);
        Assert.Equal(480, await HotAsync());
    }

    [Fact]
    public async Task A_late_batch_for_a_compacted_window_is_merged_into_its_block()
    {
        await store.Compactor.CompactAsync(CancellationToken.None);
        await store.WriteAsync(new MetricSample(device, "cpu", 1000, null, Six.AddMinutes(30).AddSeconds(30)));

        await store.Compactor.CompactAsync(CancellationToken.None);

        Assert.Equal(0, await HotAsync($"ts < '{Six.AddHours(2):O}'"));
        Assert.Equal(121, await store.Db.ScalarAsync<int>("SELECT b.sample_count FROM metric_blocks b JOIN metric_series s ON s.id = b.series_id WHERE s.name = 'cpu'"));
        Assert.Equal(1000.0, await store.Db.ScalarAsync<double>(
            "SELECT r.max FROM metric_rollups_5m r JOIN metric_series s ON s.id = r.series_id WHERE s.name = 'cpu' AND r.bucket = $1", Six.AddMinutes(30).UtcDateTime));
        var body = await store.GetAsync(device, $"name=cpu&from={MetricsStore.Q(Six)}&to={MetricsStore.Q(Six.AddHours(1))}");
        Assert.Equal(61, Assert.Single(body.Series).Points.Count);
    }

    [Fact]
    public async Task A_batch_arriving_days_after_its_window_was_compacted_is_merged_too_and_leaves_nothing_hot()
    {
        await store.Compactor.CompactAsync(CancellationToken.None);
        store.Time.Advance(TimeSpan.FromDays(3));
        await store.Compactor.CompactAsync(CancellationToken.None);
        Assert.Equal(0, await HotAsync());

        await store.WriteAsync(new MetricSample(device, "cpu", 1000, null, Six.AddMinutes(30).AddSeconds(30)));
        await store.Compactor.CompactAsync(CancellationToken.None);

        Assert.Equal(0, await HotAsync());
        Assert.Equal(121, await store.Db.ScalarAsync<int>(
            "SELECT b.sample_count FROM metric_blocks b JOIN metric_series s ON s.id = b.series_id WHERE s.name = 'cpu' AND b.window_start = $1", Six.UtcDateTime));
        // The day's rollups were encoded by then (MetricsRollupEncoder): the late bucket is merged into its row.
        var body = await store.GetAsync(device, $"name=cpu&fn=max&step=5m&from={MetricsStore.Q(Six.AddMinutes(30))}&to={MetricsStore.Q(Six.AddMinutes(35))}");
        Assert.Equal(1000.0, Assert.Single(Assert.Single(body.Series).Points).Value);
        Assert.Equal(0L, await store.Db.ScalarAsync<long>("SELECT count(*) FROM metric_rollups_5m"));
    }

    [Fact]
    public async Task The_newest_three_hours_stay_hot()
    {
        store.Time.Advance(TimeSpan.FromHours(1));
        await store.Compactor.CompactAsync(CancellationToken.None);
        Assert.Equal(Six.AddHours(4).UtcDateTime, await store.Db.ScalarAsync<DateTime>("SELECT min(ts) FROM metric_samples"));

        store.Time.Advance(TimeSpan.FromMinutes(59));
        var result = await store.Compactor.CompactAsync(CancellationToken.None);

        Assert.Equal(0, result.Samples);
        Assert.Equal(240, await HotAsync());
    }
}
