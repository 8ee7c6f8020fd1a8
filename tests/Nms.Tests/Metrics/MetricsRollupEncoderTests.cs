using Nms.Core.Metrics;

namespace Nms.Tests.Metrics;

/// <summary>
/// Rollup spans encoded once compaction's watermark has passed them: a day of 5-minute buckets, a week
/// (from Monday) of hours. Samples 06:00 .. 11:59 on Tuesday 10 March: a partial day, a partial week.
/// </summary>
public sealed class MetricsRollupEncoderTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Six = new(2026, 3, 10, 6, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Midnight = new(2026, 3, 11, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    // Mid-span ranges too, so buckets are cut out of an encoded row, not only taken whole.
    private static readonly string[] Queries =
    [
        $"step=5m&from={MetricsStore.Q(Six)}&to={MetricsStore.Q(Six.AddHours(6))}",
        $"step=5m&fn=max&from={MetricsStore.Q(Six.AddMinutes(70))}&to={MetricsStore.Q(Six.AddHours(5))}",
        $"name=if_in_octets_total&fn=increase&step=1h&from={MetricsStore.Q(Six)}&to={MetricsStore.Q(Six.AddHours(6))}",
        $"name=if_in_octets_total&fn=rate&step=15m&from={MetricsStore.Q(Six.AddMinutes(45))}&to={MetricsStore.Q(Six.AddHours(4))}",
        $"fn=last&step=2h&from={MetricsStore.Q(Six.AddHours(-6))}&to={MetricsStore.Q(Six.AddHours(18))}",
    ];

    private MetricsStore store = null!;
    private long device;

    public async Task InitializeAsync()
    {
        store = await MetricsStore.CreateAsync(Midnight);
        device = await store.DeviceAsync();
        // A gauge 0..359 and a counter +10 a minute that resets to 0 at 07:00.
        await store.WriteAsync(MetricsStore.Series(device, "cpu", Six, Minute, Enumerable.Range(0, 360).Select(i => (double)i)));
        await store.WriteAsync(MetricsStore.Series(device, "if_in_octets_total", Six, Minute, Enumerable.Range(0, 360).Select(i => (double)(i < 60 ? 1000 + i * 10 : (i - 60) * 10))));
        await store.Compactor.CompactAsync(CancellationToken.None); // windows up to 20:00: the day is still open
    }

    public async Task DisposeAsync() => await store.DisposeAsync();

    private Task<long> CountAsync(string table) => store.Db.ScalarAsync<long>($"SELECT count(*) FROM {table}");

    private async Task<string> AnswersAsync()
    {
        var answers = new List<string>();
        foreach (var query in Queries)
        {
            var body = await store.GetAsync(device, query);
            answers.Add(body.Tier + ": " + string.Join(" | ", body.Series.Select(s => s.Name + " " + string.Join(' ', s.Points.Select(p => $"{p.Ts:HH:mm}={p.Value}/{p.Avg}/{p.Min}/{p.Max}/{p.Count}")))));
        }

        return string.Join('\n', answers);
    }

    [Fact]
    public async Task A_closed_day_becomes_one_encoded_row_per_series_and_queries_answer_the_same()
    {
        Assert.Equal(144, await CountAsync("metric_rollups_5m"));
        var before = await AnswersAsync();

        store.Time.Advance(TimeSpan.FromHours(3));
        var result = await store.Compactor.CompactAsync(CancellationToken.None);

        Assert.Equal(2, result.RollupSpans);
        Assert.Equal(0, await CountAsync("metric_rollups_5m"));
        Assert.Equal("72,72", await store.Db.ScalarAsync<string>("SELECT string_agg(bucket_count::text, ',') FROM metric_rollup_blocks_5m WHERE span_start = $1", Six.Date));
        Assert.Equal(12, await CountAsync("metric_rollups_1h")); // the week is still open
        Assert.Equal(before, await AnswersAsync());

        store.Time.Advance(TimeSpan.FromDays(6));
        Assert.Equal(2, (await store.Compactor.CompactAsync(CancellationToken.None)).RollupSpans);
        Assert.Equal(0, await CountAsync("metric_rollups_1h"));
        Assert.Equal("6,6", await store.Db.ScalarAsync<string>("SELECT string_agg(bucket_count::text, ',') FROM metric_rollup_blocks_1h WHERE span_start = $1", new DateTime(2026, 3, 9, 0, 0, 0, DateTimeKind.Utc)));
        Assert.Equal(before, await AnswersAsync());
    }

    [Fact]
    public async Task A_counter_reset_inside_an_encoded_span_counts_as_the_new_value()
    {
        store.Time.Advance(TimeSpan.FromDays(7));
        await store.Compactor.CompactAsync(CancellationToken.None);
        Assert.Equal(0, await CountAsync("metric_rollups_1h"));

        var body = await store.GetAsync(device, Queries[2]);

        // 06:00-07:00: 59 intervals of +10; 07:00-08:00: the reset (1590 -> 0) counts 0, then 59 of +10; then 60 of +10.
        Assert.Equal("1h", body.Tier);
        Assert.Equal([590.0, 590, 600, 600, 600, 600], Assert.Single(body.Series).Points.Select(p => p.Value!.Value));
    }

    [Fact]
    public async Task A_rerun_does_nothing()
    {
        store.Time.Advance(TimeSpan.FromHours(3));
        await store.Compactor.CompactAsync(CancellationToken.None);
        var encoded = await store.Db.ScalarAsync<string>("SELECT string_agg(md5(data), ',' ORDER BY series_id) FROM metric_rollup_blocks_5m");

        var again = await store.Compactor.CompactAsync(CancellationToken.None);

        Assert.Equal(0, again.RollupSpans);
        Assert.Equal(encoded, await store.Db.ScalarAsync<string>("SELECT string_agg(md5(data), ',' ORDER BY series_id) FROM metric_rollup_blocks_5m"));
    }

    [Fact]
    public async Task An_encoding_that_fails_halfway_leaves_the_plain_rows_and_writes_no_encoded_row()
    {
        var before = await AnswersAsync();
        await store.Db.ExecuteAsync("""
            CREATE FUNCTION fail_rollup_block() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;
            CREATE TRIGGER fail_rollup_block BEFORE INSERT ON metric_rollup_blocks_5m FOR EACH ROW EXECUTE FUNCTION fail_rollup_block();
            """);
        store.Time.Advance(TimeSpan.FromHours(3));

        await Assert.ThrowsAnyAsync<Npgsql.PostgresException>(() => store.Compactor.CompactAsync(CancellationToken.None));

        Assert.Equal(144, await CountAsync("metric_rollups_5m"));
        Assert.Equal(0, await CountAsync("metric_rollup_blocks_5m"));
        Assert.Equal(before, await AnswersAsync());

        await store.Db.ExecuteAsync("DROP TRIGGER fail_rollup_block ON metric_rollup_blocks_5m");
        Assert.Equal(2, (await store.Compactor.CompactAsync(CancellationToken.None)).RollupSpans);
        Assert.Equal(0, await CountAsync("metric_rollups_5m"));
        Assert.Equal(before, await AnswersAsync());
    }

    [Fact]
    public async Task A_late_batch_for_an_encoded_day_is_merged_into_its_row()
    {
        store.Time.Advance(TimeSpan.FromHours(3));
        await store.Compactor.CompactAsync(CancellationToken.None);

        await store.WriteAsync(new MetricSample(device, "cpu", 1000, null, Six.AddMinutes(30).AddSeconds(30)));
        var result = await store.Compactor.CompactAsync(CancellationToken.None);

        Assert.Equal((1L, 1), (result.Samples - 120, result.RollupSpans));
        Assert.Equal(0, await CountAsync("metric_rollups_5m"));
        Assert.Equal(72, await store.Db.ScalarAsync<int>("SELECT r.bucket_count FROM metric_rollup_blocks_5m r JOIN metric_series s ON s.id = r.series_id WHERE s.name = 'cpu'"));
        var body = await store.GetAsync(device, $"name=cpu&fn=max&step=5m&from={MetricsStore.Q(Six.AddMinutes(30))}&to={MetricsStore.Q(Six.AddMinutes(40))}");
        Assert.Equal([1000.0, 39], Assert.Single(body.Series).Points.Select(p => p.Value!.Value));
    }

    [Fact]
    public async Task A_plain_bucket_wins_over_the_encoded_one_it_repeats()
    {
        store.Time.Advance(TimeSpan.FromHours(3));
        await store.Compactor.CompactAsync(CancellationToken.None);
        await store.Db.ExecuteAsync("""
            INSERT INTO metric_rollups_5m (device_id, series_id, bucket, sample_count, min, max, sum, last, increase, increase_seconds)
            SELECT device_id, id, $1, 6, 30, 2000, 2150, 34, 4, 300 FROM metric_series WHERE name = 'cpu'
            """, Six.AddMinutes(30).UtcDateTime);

        var body = await store.GetAsync(device, $"name=cpu&step=5m&from={MetricsStore.Q(Six.AddMinutes(25))}&to={MetricsStore.Q(Six.AddMinutes(40))}");

        Assert.Equal(["29/5", "2000/6", "39/5"], Assert.Single(body.Series).Points.Select(p => $"{p.Max}/{p.Count}"));
    }
}
