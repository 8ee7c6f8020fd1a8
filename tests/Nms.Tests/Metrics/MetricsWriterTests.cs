using Nms.Core.Metrics;
using Nms.Testing;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Metrics;

public sealed class MetricsWriterTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 9, 30, 0, TimeSpan.Zero);

    private MetricsStore store = null!;

    public async Task InitializeAsync() => store = await MetricsStore.CreateAsync(Now);

    public async Task DisposeAsync() => await store.DisposeAsync();

    private static MetricsBatchMessage Batch(int rows, DateTimeOffset? ts = null) => new(
        Guid.NewGuid(),
        Enumerable.Range(0, rows).Select(i => new MetricSample(
            1 + (i % 3), i % 2 == 0 ? "cpu" : "if_in_octets_total", i * 1.5,
            i % 2 == 0 ? null : new Dictionary<string, string> { ["if_index"] = (i % 4).ToString(System.Globalization.CultureInfo.InvariantCulture) },
            (ts ?? Now).AddSeconds(i))).ToList());

    private Task<long> RowsAsync() => store.Db.ScalarAsync<long>("SELECT count(*) FROM metric_samples");

    [Fact]
    public async Task A_batch_is_written_with_its_values_and_timestamps_and_each_label_set_once()
    {
        var batch = Batch(10);

        var written = await store.Writer.WriteAsync(batch, CancellationToken.None);

        Assert.Equal(10, written);
        Assert.Equal(10, await RowsAsync());
        Assert.Equal(7.5, await store.Db.ScalarAsync<double>("SELECT value FROM metric_samples WHERE ts = $1", Now.AddSeconds(5).UtcDateTime));
        Assert.Equal("{\"if_index\": \"1\"}", await store.Db.ScalarAsync<string>(
            "SELECT s.labels::text FROM metric_samples h JOIN metric_series s ON s.device_id = h.device_id AND s.id = h.series_id WHERE h.ts = $1", Now.AddSeconds(5).UtcDateTime));
        // (device, name, labels): cpu on devices 1-3, if_in_octets_total on (2,1) (1,3) (3,1) (2,3) (1,1).
        Assert.Equal(8L, await store.Db.ScalarAsync<long>("SELECT count(*) FROM metric_series"));
        Assert.Equal(10, await store.Db.ScalarAsync<int>("SELECT row_count FROM metric_batches WHERE batch_id = $1", batch.BatchId));
    }

    [Fact]
    public async Task A_poll_is_one_hot_row_per_device_holding_all_its_series()
    {
        var samples = new[] { 1L, 2L }.SelectMany(d => new[] { "cpu", "mem", "if_in_octets_total" }.Select((n, i) => new MetricSample(d, n, d * 10 + i, null, Now))).ToArray();

        await store.WriteAsync(samples);

        Assert.Equal(2L, await store.Db.ScalarAsync<long>("SELECT count(*) FROM metric_polls"));
        Assert.Equal(6, await RowsAsync());
        Assert.Equal(21.0, await store.Db.ScalarAsync<double>(
            "SELECT h.value FROM metric_samples h JOIN metric_series s ON s.device_id = h.device_id AND s.id = h.series_id WHERE h.device_id = 2 AND s.name = 'mem'"));
    }

    [Fact]
    public async Task A_series_keeps_the_kind_it_was_first_seen_with()
    {
        await store.WriteAsync(new MetricSample(1, "odd", 1, null, Now, "gauge"));
        await store.WriteAsync(new MetricSample(1, "odd", 2, null, Now.AddMinutes(1), "counter", 32));

        Assert.Equal("gauge", await store.Db.ScalarAsync<string>("SELECT kind FROM metric_series WHERE name = 'odd'"));
        Assert.Equal(2, await RowsAsync());
    }

    [Fact]
    public async Task A_series_kind_comes_from_the_sample_or_from_a_total_suffix()
    {
        await store.WriteAsync(
            new MetricSample(1, "if_in_octets_total", 1, null, Now),
            new MetricSample(1, "if_in_octets32", 1, null, Now, "counter", 32),
            new MetricSample(1, "cpu_load_percent", 1, null, Now),
            new MetricSample(1, "odd_total", 1, null, Now, "gauge"));

        var kinds = await store.Db.ScalarAsync<string>("SELECT string_agg(name || ':' || kind || ':' || coalesce(counter_bits::text, '-'), ',' ORDER BY name) FROM metric_series");

        Assert.Equal("cpu_load_percent:gauge:-,if_in_octets32:counter:32,if_in_octets_total:counter:64,odd_total:gauge:-", kinds);
    }

    [Fact]
    public async Task A_sample_with_an_overlong_name_is_dropped_and_the_rest_of_its_batch_written()
    {
        var written = await store.WriteAsync(
            new MetricSample(1, new string('x', 257), 1, null, Now),
            new MetricSample(1, "cpu", 2, null, Now));

        Assert.Equal(1, written);
        Assert.Equal("cpu", await store.Db.ScalarAsync<string>("SELECT string_agg(name, ',') FROM metric_series"));
    }

    [Fact]
    public async Task The_same_batch_delivered_twice_is_written_once()
    {
        var batch = Batch(20);

        var first = await store.Writer.WriteAsync(batch, CancellationToken.None);
        var second = await store.Writer.WriteAsync(batch, CancellationToken.None);

        Assert.Equal((20, 0), (first, second));
        Assert.Equal(20, await RowsAsync());
    }

    [Fact]
    public async Task More_new_series_than_one_statement_creates_each_keep_their_own_values()
    {
        var count = MetricSeriesCatalog.MaxNewSeriesPerStatement * 2 + 7;
        var samples = Enumerable.Range(0, count).Select(i => new MetricSample(
            1 + (i % 40), $"m{i}", i, new Dictionary<string, string> { ["n"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) }, Now)).ToList();

        var written = await store.Writer.WriteAsync(new MetricsBatchMessage(Guid.NewGuid(), samples), CancellationToken.None);

        Assert.Equal(count, written);
        Assert.Equal((long)count, await store.Db.ScalarAsync<long>("SELECT count(DISTINCT id) FROM metric_series"));
        Assert.Equal((long)count, await store.Db.ScalarAsync<long>("""
            SELECT count(*) FROM metric_samples h JOIN metric_series s ON s.device_id = h.device_id AND s.id = h.series_id
            WHERE s.name = 'm' || h.value::bigint AND s.labels->>'n' = h.value::bigint::text AND s.device_id = 1 + h.value::bigint % 40
            """));
    }

    [Fact]
    public async Task Behind_a_pooler_that_loses_prepared_statements_the_writer_stops_preparing_and_loses_no_batch()
    {
        var server = new Npgsql.NpgsqlConnectionStringBuilder(store.Db.ConnectionString);
        using var bouncer = await PgBouncerProcess.StartAsync(server.Host!, server.Port, server.Username!, server.Password!, serverConnections: 1);
        var viaBouncer = new Npgsql.NpgsqlConnectionStringBuilder(store.Db.ConnectionString) { Port = bouncer.Port }.ConnectionString;
        await using var sources = Nms.Core.Data.NmsDataSources.Create(store.Db.ConnectionString, viaBouncer);
        var writer = new MetricsWriter(sources.Metrics, store.Partitions, new MetricSeriesCatalog(sources.Metrics), store.Instruments, store.Time, Microsoft.Extensions.Logging.Abstractions.NullLogger<MetricsWriter>.Instance);
        var first = await writer.WriteAsync(Batch(6), CancellationToken.None);

        // The one server connection forgets the claim the writer's connection prepared on it, as a server connection
        // PgBouncer hands out that never saw it would.
        await using (var other = Npgsql.NpgsqlDataSource.Create(viaBouncer))
        await using (var deallocate = other.CreateCommand("DEALLOCATE ALL"))
        {
            await deallocate.ExecuteNonQueryAsync();
        }

        var second = await writer.WriteAsync(Batch(5), CancellationToken.None);
        var third = await writer.WriteAsync(Batch(4), CancellationToken.None);

        Assert.Equal((6, 5, 4), (first, second, third));
        Assert.Equal(15, await RowsAsync());
        Assert.False(writer.ClaimsPrepared);
    }

    [Fact]
    public async Task The_same_batch_delivered_to_several_writers_at_once_is_written_once()
    {
        var batch = Batch(500);

        var written = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => store.Writer.WriteAsync(batch, CancellationToken.None))));

        Assert.Equal([0, 0, 0, 500], written.Order());
        Assert.Equal(500, await RowsAsync());
        Assert.Equal(9L, await store.Db.ScalarAsync<long>("SELECT count(*) FROM metric_series"));
    }

    [Fact]
    public async Task Batches_delivered_while_two_writes_are_in_flight_are_committed_together_in_one_transaction()
    {
        var batches = Enumerable.Range(0, 8).Select(_ => Batch(6)).ToArray();
        int[] written;
        await using (var blocker = await BlockBatchClaimsAsync())
        {
            var inFlight = await StartBlockedWritesAsync(batches[0], batches[1], batches[2]);
            var rest = batches.Skip(3).Select(b => Task.Run(() => store.Writer.WriteAsync(b, CancellationToken.None))).ToArray();
            await TestApp.EventuallyAsync(() => Task.FromResult(store.Writer.WritesWaiting == 5), "five writes waiting behind the two in flight");
            await blocker.RollbackAsync();
            written = await Task.WhenAll(inFlight.Concat(rest));
        }

        Assert.All(written, w => Assert.Equal(6, w));
        Assert.Equal(48, await RowsAsync());
        Assert.Equal("1,2,5", await TransactionSizesAsync(batches));
    }

    [Fact]
    public async Task A_lone_batch_delivered_while_a_write_is_in_flight_waits_for_it_and_goes_with_the_next_batch()
    {
        var batches = Enumerable.Range(0, 3).Select(_ => Batch(4)).ToArray();
        int[] written;
        await using (var blocker = await BlockBatchClaimsAsync())
        {
            var first = store.Writer.WriteAsync(batches[0], CancellationToken.None);
            await TestApp.EventuallyAsync(async () => await BlockedClaimsAsync() == 1, "the first write waiting on the lock");
            var lone = Task.Run(() => store.Writer.WriteAsync(batches[1], CancellationToken.None));
            await TestApp.EventuallyAsync(() => Task.FromResult(store.Writer.WritesWaiting == 1), "the lone batch waiting instead of starting a group");
            var next = Task.Run(() => store.Writer.WriteAsync(batches[2], CancellationToken.None));
            await TestApp.EventuallyAsync(async () => await BlockedClaimsAsync() == 2, "the two waiting batches started the second group");
            await blocker.RollbackAsync();
            written = await Task.WhenAll(first, lone, next);
        }

        Assert.Equal([4, 4, 4], written);
        Assert.Equal("1,2", await TransactionSizesAsync(batches));
    }

    [Fact]
    public async Task A_batch_written_before_and_delivered_again_with_new_batches_writes_only_the_new_ones()
    {
        var before = Batch(3);
        await store.Writer.WriteAsync(before, CancellationToken.None);
        var fresh = Enumerable.Range(0, 5).Select(_ => Batch(5)).ToArray();
        int[] written;
        await using (var blocker = await BlockBatchClaimsAsync())
        {
            var inFlight = await StartBlockedWritesAsync(fresh[0], fresh[1], fresh[2]);
            var group = new[] { fresh[3], before, fresh[4] }.Select(b => Task.Run(() => store.Writer.WriteAsync(b, CancellationToken.None))).ToArray();
            await TestApp.EventuallyAsync(() => Task.FromResult(store.Writer.WritesWaiting == 3), "three writes waiting behind the two in flight");
            await blocker.RollbackAsync();
            written = await Task.WhenAll(inFlight.Concat(group));
        }

        Assert.Equal([5, 5, 5, 5, 0, 5], written);
        Assert.Equal(28, await RowsAsync());
        Assert.Equal("1,2,2", await TransactionSizesAsync(fresh));
        Assert.Equal(3, await store.Db.ScalarAsync<int>("SELECT row_count FROM metric_batches WHERE batch_id = $1", before.BatchId));
    }

    [Fact]
    public async Task A_batch_the_database_refuses_fails_only_its_own_write_when_written_with_others()
    {
        await store.Db.ExecuteAsync("""
            CREATE FUNCTION refuse_device_666() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'device 666 refused'; END $$;
            CREATE TRIGGER refuse_666 BEFORE INSERT ON metric_polls FOR EACH ROW WHEN (NEW.device_id = 666) EXECUTE FUNCTION refuse_device_666();
            """);
        var good = Enumerable.Range(0, 3).Select(_ => Batch(4)).ToArray();
        var bad = new MetricsBatchMessage(Guid.NewGuid(), [new MetricSample(666, "cpu", 1, null, Now)]);
        Task<int>[] writes;
        await using (var blocker = await BlockBatchClaimsAsync())
        {
            var inFlight = await StartBlockedWritesAsync(Batch(2), Batch(2), Batch(2));
            writes = [.. good.Take(1).Append(bad).Concat(good.Skip(1)).Select(b => Task.Run(() => store.Writer.WriteAsync(b, CancellationToken.None))), .. inFlight];
            await TestApp.EventuallyAsync(() => Task.FromResult(store.Writer.WritesWaiting == 4), "four writes waiting behind the two in flight");
            await blocker.RollbackAsync();
            await Task.WhenAll(writes.Where((_, i) => i != 1));
        }

        var error = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => writes[1]);
        Assert.Contains("device 666 refused", error.MessageText, StringComparison.Ordinal);
        Assert.Equal(18, await RowsAsync());
        Assert.Equal(0L, await store.Db.ScalarAsync<long>("SELECT count(*) FROM metric_batches WHERE batch_id = $1", bad.BatchId));
    }

    [Fact]
    public async Task Polls_of_one_shape_on_other_devices_in_another_order_or_with_another_label_keep_each_value_on_its_own_series()
    {
        static Dictionary<string, string> If(string index) => new() { ["if_index"] = index };
        static MetricsBatchMessage Polls(params MetricPoll[] polls) => new(Guid.NewGuid(), null, polls);
        var shape = (double cpu, double if1, double if2) => (IReadOnlyList<MetricValue>)[new("cpu", cpu), new("in_total", if1, If("1")), new("in_total", if2, If("2"))];

        await store.Writer.WriteAsync(Polls(new MetricPoll(1, Now, shape(1, 10, 20)), new MetricPoll(2, Now, shape(2, 30, 40))), CancellationToken.None);
        await store.Writer.WriteAsync(Polls(new MetricPoll(1, Now.AddMinutes(1), shape(3, 11, 21))), CancellationToken.None);
        await store.Writer.WriteAsync(Polls(new MetricPoll(2, Now.AddMinutes(1), [new("in_total", 41, If("2")), new("cpu", 4), new("in_total", 31, If("1"))])), CancellationToken.None);
        await store.Writer.WriteAsync(Polls(new MetricPoll(1, Now.AddMinutes(2), [new("cpu", 5), new("in_total", 12, If("1")), new("in_total", 50, If("3"))])), CancellationToken.None);

        var values = await store.Db.ScalarAsync<string>("""
            SELECT string_agg(h.device_id || '/' || s.name || coalesce(s.labels->>'if_index', '') || '@' || extract(epoch FROM h.ts - $1)::int / 60 || '=' || h.value,
                              ' ' ORDER BY h.device_id, h.ts, s.name, s.labels->>'if_index')
            FROM metric_samples h JOIN metric_series s ON s.device_id = h.device_id AND s.id = h.series_id
            """, Now.UtcDateTime);
        Assert.Equal(
            "1/cpu@0=1 1/in_total1@0=10 1/in_total2@0=20 1/cpu@1=3 1/in_total1@1=11 1/in_total2@1=21 1/cpu@2=5 1/in_total1@2=12 1/in_total3@2=50 " +
            "2/cpu@0=2 2/in_total1@0=30 2/in_total2@0=40 2/cpu@1=4 2/in_total1@1=31 2/in_total2@1=41",
            values);
        Assert.Equal(7L, await store.Db.ScalarAsync<long>("SELECT count(*) FROM metric_series"));
    }

    /// <summary>Starts two writes, one after the other, and waits until both are in flight and blocked on their claims.</summary>
    /// <summary>Two groups in flight, blocked: <paramref name="first"/> alone, then <paramref name="second"/> together (a second group needs two batches).</summary>
    private async Task<Task<int>[]> StartBlockedWritesAsync(MetricsBatchMessage first, params MetricsBatchMessage[] second)
    {
        var one = store.Writer.WriteAsync(first, CancellationToken.None);
        await TestApp.EventuallyAsync(async () => await BlockedClaimsAsync() == 1, "the first write waiting on the lock");
        var two = second.Select(b => Task.Run(() => store.Writer.WriteAsync(b, CancellationToken.None))).ToArray();
        await TestApp.EventuallyAsync(async () => await BlockedClaimsAsync() == 2, "the second group waiting on the lock");
        return [one, .. two];
    }

    /// <summary>Batches per transaction, smallest first: rows of one transaction share its id (xmin).</summary>
    private Task<string> TransactionSizesAsync(IEnumerable<MetricsBatchMessage> batches) => store.Db.ScalarAsync<string>(
        "SELECT string_agg(n::text, ',' ORDER BY n) FROM (SELECT count(*) AS n FROM metric_batches WHERE batch_id = ANY($1) GROUP BY xmin::text) t",
        batches.Select(b => b.BatchId).ToArray());

    /// <summary>A transaction holding a lock that blocks every batch claim until it ends.</summary>
    private async Task<ClaimBlocker> BlockBatchClaimsAsync()
    {
        var connection = await store.Db.Data.Api.OpenConnectionAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var command = new Npgsql.NpgsqlCommand("LOCK TABLE metric_batches IN EXCLUSIVE MODE", connection, transaction);
        await command.ExecuteNonQueryAsync();
        return new ClaimBlocker(connection, transaction);
    }

    private sealed class ClaimBlocker(Npgsql.NpgsqlConnection connection, Npgsql.NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public Task RollbackAsync() => transaction.RollbackAsync();

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }

    private Task<long> BlockedClaimsAsync() => store.Db.ScalarAsync<long>(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO metric_batches%'");

    [Fact]
    public async Task Samples_land_in_their_own_days_partition_created_at_first_write()
    {
        var tomorrow = Now.AddDays(1);

        await store.Writer.WriteAsync(Batch(3, tomorrow), CancellationToken.None);

        Assert.Equal($"metric_polls_p{tomorrow:yyyyMMdd}", await store.Db.ScalarAsync<string>("SELECT DISTINCT tableoid::regclass::text FROM metric_polls"));
    }

    [Fact]
    public async Task Maintenance_creates_hot_days_ahead_and_drops_each_tiers_partitions_past_its_retention()
    {
        await store.Writer.WriteAsync(Batch(4, Now.AddDays(-15)), CancellationToken.None);
        await store.Writer.WriteAsync(Batch(4, Now.AddDays(-3)), CancellationToken.None);
        await store.Partitions.EnsureAsync(store.Partitions.Rollups5m, [Now.AddDays(-100), Now.AddDays(-80)], CancellationToken.None);
        await store.Partitions.EnsureAsync(store.Partitions.Rollups1h, [Now.AddDays(-800), Now.AddDays(-100)], CancellationToken.None);

        var result = await store.Partitions.MaintainAsync(CancellationToken.None);

        Assert.Equal(
            new[] { Now.AddDays(-3), Now, Now.AddDays(1), Now.AddDays(2), Now.AddDays(3) }.Select(d => $"metric_polls_p{d:yyyyMMdd}").Append("metric_polls_default").Order(StringComparer.Ordinal),
            await PartitionsOfAsync("metric_polls"));
        Assert.Equal(2, (await PartitionsOfAsync("metric_rollups_5m")).Count); // the one 80 days back and the default
        Assert.Equal(2, (await PartitionsOfAsync("metric_rollups_1h")).Count);
        Assert.Equal(3, result.Dropped);
        Assert.Equal(4, await RowsAsync());
    }

    [Fact]
    public async Task Rows_caught_by_the_default_partition_move_into_their_day_when_it_is_created()
    {
        var day = Now.AddDays(20);
        await store.Db.ExecuteAsync("INSERT INTO metric_polls (device_id, ts, series_ids, series_values) VALUES (1, $1, '{1}', '{1}')", day.UtcDateTime);
        Assert.Equal("metric_polls_default", await store.Db.ScalarAsync<string>("SELECT tableoid::regclass::text FROM metric_polls"));

        await store.Writer.WriteAsync(Batch(2, day), CancellationToken.None);

        Assert.Equal(3, await RowsAsync());
        Assert.Equal($"metric_polls_p{day:yyyyMMdd}", await store.Db.ScalarAsync<string>("SELECT string_agg(DISTINCT tableoid::regclass::text, ',') FROM metric_polls"));
    }

    [Fact]
    public async Task A_message_in_the_per_poll_form_from_the_queue_writes_the_same_rows_as_the_per_sample_form_and_both_forms_mix()
    {
        var labels = new Dictionary<string, string> { ["if_index"] = "2" };
        var json = System.Text.Json.JsonSerializer.Serialize(new MetricsBatchMessage(Guid.NewGuid(),
            [new MetricSample(3, "uptime_seconds", 9, null, Now.AddSeconds(-1))],
            [new MetricPoll(1, Now, [new MetricValue("cpu", 1.5), new MetricValue("if_in_octets32", 7, labels, "counter", 32)]), new MetricPoll(2, Now, [new MetricValue("cpu", 2.5)])]),
            Nms.Core.Configuration.NmsJson.Queue);
        var batch = System.Text.Json.JsonSerializer.Deserialize<MetricsBatchMessage>(json, Nms.Core.Configuration.NmsJson.Queue)!;

        Assert.Equal(4, await store.Writer.WriteAsync(batch, CancellationToken.None));

        Assert.Equal(3L, await store.Db.ScalarAsync<long>("SELECT count(*) FROM metric_polls"));
        Assert.Equal(7.0, await store.Db.ScalarAsync<double>(
            "SELECT h.value FROM metric_samples h JOIN metric_series s ON s.device_id = h.device_id AND s.id = h.series_id WHERE h.device_id = 1 AND s.name = 'if_in_octets32' AND h.ts = $1", Now.UtcDateTime));
        Assert.Equal("counter/32/{\"if_index\": \"2\"}", await store.Db.ScalarAsync<string>(
            "SELECT kind || '/' || counter_bits || '/' || labels::text FROM metric_series WHERE device_id = 1 AND name = 'if_in_octets32'"));
        Assert.Equal(9.0, await store.Db.ScalarAsync<double>("SELECT value FROM metric_samples WHERE device_id = 3"));
    }

    [Fact]
    public async Task The_writer_counts_the_rows_it_writes()
    {
        long counted = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument, store.Instruments.RowsWritten))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, state) => Interlocked.Add(ref counted, value));
        listener.Start();

        await store.Writer.WriteAsync(Batch(7), CancellationToken.None);

        Assert.Equal(7, Interlocked.Read(ref counted));
    }

    private async Task<IReadOnlyList<string>> PartitionsOfAsync(string parent)
    {
        var names = await store.Db.ScalarAsync<string>(
            "SELECT string_agg(c.relname, ',' ORDER BY c.relname COLLATE \"C\") FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass", parent);
        return names.Split(',');
    }
}
