using Nms.Core.Metrics;

namespace Nms.Tests.Metrics;

/// <summary>The API's in-memory counter rule gives what the store's SQL function nms_counter_delta gives.</summary>
public sealed class MetricsCounterTests : IAsyncLifetime
{
    private MetricsStore store = null!;

    public async Task InitializeAsync() => store = await MetricsStore.CreateAsync(DateTimeOffset.UtcNow);

    public async Task DisposeAsync() => await store.DisposeAsync();

    public static TheoryData<double, double, short?> Cases => new()
    {
        { 100, 250, 64 },                 // growth
        { 250, 250, 64 },                 // no change
        { 300, 50, 64 },                  // reset of a 64-bit counter
        { 300, 50, 32 },                  // 32-bit counter below 2^31 going down: a reset
        { 4294967000, 200, 32 },          // 32-bit wrap from the upper half
        { 2147483648, 5, 32 },            // exactly 2^31: a wrap
        { 4294967296, 5, 32 },            // at 2^32, not a 32-bit value: a reset
        { 4294967000, 200, 64 },          // the same drop on a 64-bit counter: a reset
        { 1e18, 1e18 + 4096, 64 },        // large values
        { 10, 0, 32 },                    // reset to zero
        { 10, 20, null },                 // width unknown
        { 20, 10, null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task The_in_memory_delta_matches_nms_counter_delta(double previous, double current, short? bits)
    {
        var sql = await store.Db.ScalarAsync<double>("SELECT nms_counter_delta($1, $2, $3::smallint)", previous, current, (object?)bits ?? DBNull.Value);

        Assert.Equal(sql, MetricsCounter.Delta(previous, current, bits));
    }
}
