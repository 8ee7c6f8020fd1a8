using Nms.Core.Metrics;

namespace Nms.Tests.Metrics;

public sealed class MetricsRollupCodecTests
{
    private static readonly long Day = MetricsTime.ToMicros(new DateTime(2026, 3, 10, 0, 0, 0, DateTimeKind.Utc));
    private const long FiveMinutes = 300_000_000L;

    private static void AssertRoundTrip(RollupBucket[] buckets)
    {
        var decoded = MetricsRollupCodec.Decode(MetricsRollupCodec.Encode(buckets));

        Assert.Equal(buckets.Length, decoded.Length);
        for (var i = 0; i < buckets.Length; i++)
        {
            Assert.Equal(Bits(buckets[i]), Bits(decoded[i]));
        }
    }

    private static string Bits(RollupBucket b) => string.Join(',',
        b.Micros, b.Count, BitConverter.DoubleToInt64Bits(b.Min), BitConverter.DoubleToInt64Bits(b.Max), BitConverter.DoubleToInt64Bits(b.Sum),
        BitConverter.DoubleToInt64Bits(b.Last), b.Increase is { } i ? BitConverter.DoubleToInt64Bits(i) : "null", b.Seconds is { } s ? BitConverter.DoubleToInt64Bits(s) : "null");

    [Fact]
    public void A_full_day_of_steady_buckets_round_trips_in_a_few_bytes_each()
    {
        var buckets = Enumerable.Range(0, 288).Select(i => new RollupBucket(Day + i * FiveMinutes, 5, 1, 1, 5, 1, 0, 300)).ToArray();

        var encoded = MetricsRollupCodec.Encode(buckets);

        AssertRoundTrip(buckets);
        // 8 columns of a 13-byte head and one bit per further bucket (~49 bytes each); as plain rows these 288 buckets take ~30 KB.
        Assert.True(encoded.Length < 420, $"{encoded.Length} bytes for 288 steady buckets");
    }

    [Fact]
    public void A_partial_span_with_gaps_noisy_values_and_no_first_increase_round_trips_exactly()
    {
        var random = new Random(90);
        var buckets = new List<RollupBucket>();
        double counter = 4_000_000_000;
        for (var i = 0; i < 288; i++)
        {
            if (i < 70 || (i > 100 && i < 130) || i % 17 == 0)
            {
                continue; // the span's first hours not polled yet, an outage, single missing buckets
            }

            var increase = i == 200 ? 12.0 : random.Next(0, 5_000_000); // 200: a counter reset (the increase is the new value)
            counter = i == 200 ? 12 : counter + increase;
            var min = random.NextDouble() * 100 - 50;
            buckets.Add(new RollupBucket(Day + i * FiveMinutes, random.Next(1, 6), min, min + random.NextDouble() * 10, random.NextDouble() * 1e6,
                counter, buckets.Count == 0 ? null : increase, buckets.Count == 0 ? null : 300 + random.NextDouble()));
        }

        buckets.Add(new RollupBucket(Day + 288 * FiveMinutes, 1, double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, double.NaN, 1e-300));

        AssertRoundTrip([.. buckets]);
        Assert.Null(MetricsRollupCodec.Decode(MetricsRollupCodec.Encode(buckets))[0].Increase);
        Assert.True(double.IsNaN(MetricsRollupCodec.Decode(MetricsRollupCodec.Encode(buckets))[^1].Increase!.Value), "a NaN the device sent stays a value, not a missing increase");
    }

    [Fact]
    public void A_single_bucket_round_trips()
    {
        AssertRoundTrip([new RollupBucket(Day, 1, 3.5, 3.5, 3.5, 3.5, null, null)]);
    }

    [Fact]
    public void Truncated_or_foreign_data_is_rejected()
    {
        var encoded = MetricsRollupCodec.Encode([new RollupBucket(Day, 5, 1, 2, 7, 2, 1, 300), new RollupBucket(Day + FiveMinutes, 5, 1, 2, 7, 2, 1, 300)]);

        Assert.Throws<InvalidDataException>(() => MetricsRollupCodec.Decode(encoded.AsSpan(0, encoded.Length - 3)));
        Assert.Throws<InvalidDataException>(() => MetricsRollupCodec.Decode(MetricsBlockCodec.EncodeValues([1.0, 2.0])));
        Assert.Throws<InvalidDataException>(() => MetricsRollupCodec.Decode([]));
    }
}
