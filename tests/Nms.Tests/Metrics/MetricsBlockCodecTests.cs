using Nms.Core.Metrics;

namespace Nms.Tests.Metrics;

public sealed class MetricsBlockCodecTests
{
    private static readonly long Start = MetricsTime.ToMicros(new DateTime(2026, 3, 10, 8, 0, 0, DateTimeKind.Utc));

    private static void AssertRoundTrip(long[] micros, double[] values)
    {
        var (m, v) = MetricsBlockCodec.Decode(MetricsBlockCodec.Encode(micros, values));

        Assert.Equal(micros, m);
        Assert.Equal(values.Select(BitConverter.DoubleToInt64Bits), v.Select(BitConverter.DoubleToInt64Bits));
    }

    [Fact]
    public void Regular_samples_round_trip_exactly_in_a_few_bits_each()
    {
        var micros = Enumerable.Range(0, 120).Select(i => Start + i * 60_000_000L).ToArray();
        var values = Enumerable.Range(0, 120).Select(i => 1.0).ToArray();

        var encoded = MetricsBlockCodec.Encode(micros, values);

        AssertRoundTrip(micros, values);
        Assert.True(encoded.Length < 60, $"{encoded.Length} bytes for 120 constant samples at a regular interval");
    }

    [Fact]
    public void Jittered_times_counters_gauges_and_special_values_round_trip_exactly()
    {
        var random = new Random(12);
        var micros = new long[500];
        var values = new double[500];
        double counter = 4_000_000_000;
        for (var i = 0; i < micros.Length; i++)
        {
            micros[i] = Start + i * 60_000_000L + random.Next(-900_000, 900_000) + (i == 300 ? 86_400_000_000L : 0);
            counter += random.Next(0, 1_000_000);
            values[i] = i % 5 switch
            {
                0 => counter,
                1 => random.NextDouble() * 100,
                2 => i == 2 ? double.NaN : i == 7 ? double.NegativeInfinity : -0.0,
                3 => double.MaxValue,
                _ => double.Epsilon * i,
            };
        }

        AssertRoundTrip(micros, values);
    }

    [Fact]
    public void A_single_sample_and_equal_timestamps_round_trip()
    {
        AssertRoundTrip([Start], [42.5]);
        AssertRoundTrip([Start, Start, Start + 1], [1, 2, 3]);
    }

    [Fact]
    public void A_truncated_block_is_an_error_not_garbage()
    {
        var encoded = MetricsBlockCodec.Encode(Enumerable.Range(0, 50).Select(i => Start + i * 1_000_003L).ToArray(), Enumerable.Range(0, 50).Select(i => i * 1.1).ToArray());

        Assert.Throws<InvalidDataException>(() => MetricsBlockCodec.Decode(encoded.AsSpan(0, encoded.Length / 2)));
    }

    [Fact]
    public void Values_stored_without_times_decode_with_their_devices_shared_times()
    {
        var micros = Enumerable.Range(0, 120).Select(i => Start + i * 60_000_000L + i * 7919 % 1_500_000).ToArray();
        var values = Enumerable.Range(0, 120).Select(i => i * 3.5).ToArray();

        var (m, v) = MetricsBlockCodec.Decode(MetricsBlockCodec.EncodeValues(values), MetricsBlockCodec.EncodeTimes(micros));

        Assert.Equal(micros, m);
        Assert.Equal(values, v);
        Assert.Throws<InvalidDataException>(() => MetricsBlockCodec.Decode(MetricsBlockCodec.EncodeValues(values)));
        Assert.Throws<InvalidDataException>(() => MetricsBlockCodec.Decode(MetricsBlockCodec.EncodeValues(values), MetricsBlockCodec.EncodeTimes(micros[1..])));
    }
}
