using Nms.Core.Metrics;

namespace Nms.Tests.Metrics;

/// <summary>rate and increase on crafted series: resets, 32-bit wraps, gaps, a single sample, batches out of order.</summary>
public sealed class MetricsRateTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T = new(2026, 3, 10, 6, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    private MetricsStore store = null!;
    private long device;

    public async Task InitializeAsync()
    {
        store = await MetricsStore.CreateAsync(T.AddHours(1));
        device = await store.DeviceAsync();
    }

    public async Task DisposeAsync() => await store.DisposeAsync();

    private async Task<IReadOnlyList<MetricPoint>> PointsAsync(string name, string fn, string step = "60", DateTimeOffset? to = null)
    {
        var body = await store.GetAsync(device, $"name={name}&fn={fn}&step={step}&from={MetricsStore.Q(T)}&to={MetricsStore.Q(to ?? T.AddHours(1))}");
        return body.Series.SingleOrDefault()?.Points ?? [];
    }

    private static IEnumerable<double> Values(IEnumerable<MetricPoint> points) => points.Select(p => Math.Round(p.Value!.Value, 6));

    [Fact]
    public async Task A_counter_reset_counts_from_zero_not_as_a_negative_rate()
    {
        await store.WriteAsync(MetricsStore.Series(device, "octets_total", T, Minute, [100, 200, 300, 50, 150]));

        Assert.Equal([100.0, 100, 50, 100], Values(await PointsAsync("octets_total", "increase")));
        Assert.Equal(new[] { 100 / 60.0, 100 / 60.0, 50 / 60.0, 100 / 60.0 }.Select(v => Math.Round(v, 6)), Values(await PointsAsync("octets_total", "rate")));
        Assert.Equal([350.0], Values(await PointsAsync("octets_total", "increase", "1h")));
    }

    [Fact]
    public async Task A_32_bit_counter_wraps_and_a_64_bit_one_resets()
    {
        await store.WriteAsync(MetricsStore.Series(device, "in32", T, Minute, [4_294_967_000, 200], kind: "counter", bits: 32));
        await store.WriteAsync(MetricsStore.Series(device, "in64", T, Minute, [4_294_967_000, 200], kind: "counter", bits: 64));
        await store.WriteAsync(MetricsStore.Series(device, "low32", T, Minute, [1_000, 200], kind: "counter", bits: 32));

        Assert.Equal([496.0], Values(await PointsAsync("in32", "increase")));
        Assert.Equal([200.0], Values(await PointsAsync("in64", "increase")));
        Assert.Equal([200.0], Values(await PointsAsync("low32", "increase")));
    }

    [Fact]
    public async Task A_gap_spreads_its_increase_over_the_time_it_covers()
    {
        await store.WriteAsync(
            new MetricSample(device, "gap_total", 0, null, T),
            new MetricSample(device, "gap_total", 60, null, T.AddMinutes(1)),
            new MetricSample(device, "gap_total", 600, null, T.AddMinutes(10)),
            new MetricSample(device, "gap_total", 660, null, T.AddMinutes(11)));

        var rate = await PointsAsync("gap_total", "rate");

        Assert.Equal([T.AddMinutes(1), T.AddMinutes(10), T.AddMinutes(11)], rate.Select(p => p.Ts));
        Assert.Equal([1.0, 1, 1], Values(rate));
    }

    [Fact]
    public async Task A_single_sample_has_no_rate()
    {
        await store.WriteAsync(new MetricSample(device, "once_total", 5, null, T.AddMinutes(3)));

        Assert.Empty(await PointsAsync("once_total", "rate"));
        Assert.Empty(await PointsAsync("once_total", "increase", "1h"));
        Assert.Equal([5.0], Values(await PointsAsync("once_total", "last")));
    }

    [Fact]
    public async Task Batches_written_out_of_order_give_the_same_rate()
    {
        var samples = MetricsStore.Series(device, "ooo_total", T, Minute, [10, 20, 40, 80, 160, 320]);
        await store.WriteAsync(samples[3..]);
        await store.WriteAsync(samples[..3]);

        Assert.Equal([10.0, 20, 40, 80, 160], Values(await PointsAsync("ooo_total", "increase")));
    }

    [Fact]
    public async Task Rate_on_a_gauge_is_its_plain_change_per_second()
    {
        await store.WriteAsync(MetricsStore.Series(device, "temperature", T, Minute, [30, 36, 24]));

        Assert.Equal([0.1, -0.2], Values(await PointsAsync("temperature", "rate")));
    }

    [Fact]
    public async Task Rollup_tiers_give_the_same_increase_as_raw_samples_after_compaction()
    {
        var values = Enumerable.Range(0, 6 * 60).Select(i => (double)(i % 100 == 99 ? 3 : i * 7 % 1000 + i * 100)).ToArray();
        await store.WriteAsync(MetricsStore.Series(device, "mixed_total", T, Minute, values));
        var to = T.AddHours(6);
        var raw = (await PointsAsync("mixed_total", "increase", "60", to)).Sum(p => p.Value!.Value);

        store.Time.Advance(TimeSpan.FromHours(9));
        await store.Compactor.CompactAsync(CancellationToken.None);
        Assert.Equal(0L, await store.Db.ScalarAsync<long>("SELECT count(*) FROM metric_samples"));

        var hourly = await store.GetAsync(device, $"name=mixed_total&fn=increase&step=1h&from={MetricsStore.Q(T)}&to={MetricsStore.Q(to)}");
        var fiveMinutes = await store.GetAsync(device, $"name=mixed_total&fn=increase&step=5m&from={MetricsStore.Q(T)}&to={MetricsStore.Q(to)}");
        var rawAgain = (await PointsAsync("mixed_total", "increase", "60", to)).Sum(p => p.Value!.Value);

        Assert.Equal(("1h", "5m"), (hourly.Tier, fiveMinutes.Tier));
        Assert.Equal(raw, hourly.Series.Single().Points.Sum(p => p.Value!.Value), 6);
        Assert.Equal(raw, fiveMinutes.Series.Single().Points.Sum(p => p.Value!.Value), 6);
        Assert.Equal(raw, rawAgain, 6);
    }
}
