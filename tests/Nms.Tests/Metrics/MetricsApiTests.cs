using System.Net;
using System.Text.Json;
using Nms.Core.Metrics;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Metrics;

/// <summary>The metrics queue and API through the local host: Azurite, the writer function, the HTTP functions.</summary>
public sealed class MetricsApiTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T = new(2026, 2, 1, 10, 0, 0, TimeSpan.Zero);

    private TestApp app = null!;
    private long device;

    public async Task InitializeAsync()
    {
        app = await TestApp.StartAsync(o => o.Settings["Nms:Metrics:MaxRowsPerQuery"] = "50");
        device = await app.Database.DataSource.AddDeviceAsync("127.0.0.1", 161, "snmp");
        var samples = new List<MetricSample>();
        for (var i = 0; i < 6; i++)
        {
            samples.Add(new MetricSample(device, "cpu", 10 + i, null, T.AddSeconds(i * 10)));
            samples.Add(new MetricSample(device, "if_in_octets", 100 + i, new Dictionary<string, string> { ["if_index"] = "1" }, T.AddSeconds(i * 10)));
            samples.Add(new MetricSample(device, "if_in_octets", 200 + i, new Dictionary<string, string> { ["if_index"] = "2" }, T.AddSeconds(i * 10)));
        }

        var batch = new MetricsBatchMessage(Guid.NewGuid(), samples);
        await app.SendAsync(app.Queues.Metrics, batch);
        await app.SendAsync(app.Queues.Metrics, batch);
        // The writer's own evidence for both deliveries: the batch's claim row (the first) and its "already written" line (the second).
        await TestApp.EventuallyAsync(
            async () => await app.Database.ScalarAsync<long>("SELECT count(*) FROM metric_batches WHERE batch_id = $1", batch.BatchId) == 1
                && app.Logs.Lines.Any(line => line.Contains($"Metrics batch {batch.BatchId} already written", StringComparison.Ordinal)),
            "both deliveries of the metrics batch to be processed");
    }

    public async Task DisposeAsync() => await app.DisposeAsync();

    private async Task<JsonElement> GetAsync(string path, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await app.Client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static string Q(DateTimeOffset t) => Uri.EscapeDataString(t.ToString("O", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task The_same_metrics_message_delivered_twice_is_written_once()
    {
        // Both deliveries were processed in InitializeAsync, the second one recognised as already written.
        Assert.Equal(18L, await app.Database.ScalarAsync<long>("SELECT count(*) FROM metric_samples"));
        Assert.Equal(1L, await app.Database.ScalarAsync<long>("SELECT count(*) FROM metric_batches"));
    }

    [Fact]
    public async Task Series_keep_labels_apart()
    {
        var body = await GetAsync($"devices/{device}/metrics?name=if_in_octets&from={Q(T)}&to={Q(T.AddMinutes(5))}");

        var series = body.GetProperty("series").EnumerateArray().ToList();
        Assert.Equal(2, series.Count);
        Assert.All(series, s => Assert.Equal("if_in_octets", s.GetProperty("name").GetString()));
        var second = series.Single(s => s.GetProperty("labels").GetProperty("if_index").GetString() == "2");
        Assert.Equal([200.0, 201, 202, 203, 204, 205], second.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("value").GetDouble()));
        Assert.False(body.GetProperty("truncated").GetBoolean());
    }

    [Fact]
    public async Task A_step_buckets_each_series_into_avg_min_and_max()
    {
        var body = await GetAsync($"devices/{device}/metrics?name=cpu&from={Q(T)}&to={Q(T.AddMinutes(1))}&step=30s");

        var points = Assert.Single(body.GetProperty("series").EnumerateArray()).GetProperty("points").EnumerateArray().ToList();
        Assert.Equal(2, points.Count);
        Assert.Equal((11.0, 10.0, 12.0, 3L), (points[0].GetProperty("avg").GetDouble(), points[0].GetProperty("min").GetDouble(), points[0].GetProperty("max").GetDouble(), points[0].GetProperty("count").GetInt64()));
        Assert.Equal((14.0, 13.0, 15.0), (points[1].GetProperty("avg").GetDouble(), points[1].GetProperty("min").GetDouble(), points[1].GetProperty("max").GetDouble()));
        Assert.Equal(T.AddSeconds(30), points[1].GetProperty("ts").GetDateTimeOffset());
        Assert.Equal(30, body.GetProperty("step_seconds").GetInt32());
    }

    [Fact]
    public async Task Latest_returns_the_newest_value_of_each_series()
    {
        var body = await GetAsync($"devices/{device}/metrics/latest?since={Q(T.AddDays(-1))}");

        var latest = body.GetProperty("metrics").EnumerateArray()
            .ToDictionary(m => m.GetProperty("name").GetString() + (m.GetProperty("labels").TryGetProperty("if_index", out var i) ? "#" + i.GetString() : ""), m => m.GetProperty("value").GetDouble());
        Assert.Equal(new Dictionary<string, double> { ["cpu"] = 15, ["if_in_octets#1"] = 105, ["if_in_octets#2"] = 205 }, latest);
    }

    [Fact]
    public async Task Answers_are_bounded_by_the_row_limit_and_say_so()
    {
        var body = await GetAsync($"devices/{device}/metrics?from={Q(T)}&to={Q(T.AddMinutes(5))}");
        Assert.Equal(18, body.GetProperty("series").EnumerateArray().Sum(s => s.GetProperty("points").GetArrayLength()));
        Assert.False(body.GetProperty("truncated").GetBoolean());

        await using var app2 = await TestApp.StartAsync(o =>
        {
            o.Database = app.Database;
            o.Settings["Nms:Metrics:MaxRowsPerQuery"] = "5";
        });
        using var response = await app2.Client.GetAsync($"devices/{device}/metrics?from={Q(T)}&to={Q(T.AddMinutes(5))}");
        var limited = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(5, limited.GetProperty("series").EnumerateArray().Sum(s => s.GetProperty("points").GetArrayLength()));
        Assert.True(limited.GetProperty("truncated").GetBoolean());
    }

    [Theory]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2026-13-45", "to")]
    [InlineData("from=2026-02-02T00:00:00Z&to=2026-02-01T00:00:00Z", "from")]
    [InlineData("step=0", "step")]
    [InlineData("step=fast", "step")]
    [InlineData("step=-5m", "step")]
    [InlineData("from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&step=1s", "step")]
    [InlineData("fn=median", "fn")]
    [InlineData("labels=eth0", "labels")]
    [InlineData("labels[]=eth0", "labels")]
    [InlineData("labels[if_index=1", "labels")]
    [InlineData("labels[a]b]=1", "labels")]
    [InlineData("fn=avg&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&step=60", "step")]
    public async Task Bad_query_values_are_a_400_naming_the_field(string query, string field)
    {
        var body = await GetAsync($"devices/{device}/metrics?{query}", HttpStatusCode.BadRequest);

        Assert.Equal(field, body.GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_name_over_256_characters_is_a_400_naming_name()
    {
        var body = await GetAsync($"devices/{device}/metrics?name={new string('n', 257)}", HttpStatusCode.BadRequest);

        Assert.Equal("name", body.GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_label_matcher_selects_series_and_an_unknown_key_selects_none()
    {
        var range = $"from={Q(T)}&to={Q(T.AddMinutes(5))}";
        var one = await GetAsync($"devices/{device}/metrics?name=if_in_octets&labels[if_index]=2&{range}");
        var none = await GetAsync($"devices/{device}/metrics?labels[vlan]=2&{range}");

        var series = Assert.Single(one.GetProperty("series").EnumerateArray());
        Assert.Equal("2", series.GetProperty("labels").GetProperty("if_index").GetString());
        Assert.Empty(none.GetProperty("series").EnumerateArray());
    }

    [Fact]
    public async Task Rate_of_a_gauge_is_allowed_and_answers_per_step()
    {
        var body = await GetAsync($"devices/{device}/metrics?name=cpu&fn=rate&step=10s&from={Q(T)}&to={Q(T.AddMinutes(1))}");

        Assert.Equal("rate", body.GetProperty("fn").GetString());
        var points = Assert.Single(body.GetProperty("series").EnumerateArray()).GetProperty("points").EnumerateArray().ToList();
        Assert.Equal(5, points.Count);
        Assert.All(points, p => Assert.Equal(0.1, p.GetProperty("value").GetDouble(), 9));
    }

    [Fact]
    public async Task The_series_list_names_each_series_with_labels_and_first_and_last_seen()
    {
        var body = await GetAsync($"devices/{device}/series");

        var series = body.GetProperty("series").EnumerateArray().ToList();
        Assert.Equal(["cpu", "if_in_octets", "if_in_octets"], series.Select(s => s.GetProperty("name").GetString()));
        Assert.All(series, s => Assert.Equal(T, s.GetProperty("first_seen_at").GetDateTimeOffset()));
        Assert.All(series, s => Assert.Equal(T.AddSeconds(50), s.GetProperty("last_seen_at").GetDateTimeOffset()));
        Assert.Equal("gauge", series[0].GetProperty("kind").GetString());
    }

    [Theory]
    [InlineData("metrics")]
    [InlineData("metrics/latest")]
    [InlineData("series")]
    public async Task An_unknown_device_is_a_404(string path)
    {
        await GetAsync($"devices/987654321/{path}", HttpStatusCode.NotFound);
        await GetAsync($"devices/not-a-number/{path}", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Metrics_need_an_api_key()
    {
        using var response = await app.Anonymous.GetAsync($"devices/{device}/metrics");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
