using Nms.Testing;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Resilience;

/// <summary>
/// Outages of our own dependencies are not message failures. With a delivery budget of 2 attempts 1 s apart, each
/// fault outlasts the budget many times over; afterwards, from the database: every device polled in every interval
/// (within 3 s of jitter) from 2 intervals after recovery, no sample twice, no device deactivated, every poison queue empty.
/// </summary>
public sealed class DependencyOutageTests(OutageFixture fixture) : IClassFixture<OutageFixture>
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(15);
    private FaultLab Lab => fixture.Lab;

    [Fact]
    public async Task PostgreSQL_stopped_longer_than_the_delivery_budget_loses_no_message_and_polling_catches_up()
    {
        await SteadyAsync();
        Lab.Postgres.Stop();
        try
        {
            // Health pings PostgreSQL itself; the consumers' circuit opens only if a message was in flight, which
            // depends on where in the poll interval the stop fell, so it is not the signal waited for.
            await TestApp.EventuallyAsync(async () => !(await Lab.HealthAsync()).GetProperty("checks").EnumerateArray()
                .Single(c => c.GetProperty("name").GetString() == "postgres_api").GetProperty("healthy").GetBoolean(), "health reporting PostgreSQL down", TimeSpan.FromSeconds(30));
            await Task.Delay(Outage); // the outage itself: many delivery budgets long
        }
        finally
        {
            Lab.Postgres.Start();
        }

        await AssertRecoveredAsync(DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Azurite_restarted_loses_no_message_and_polling_catches_up()
    {
        await SteadyAsync();
        await Lab.Azurite.StopAsync();
        try
        {
            await TestApp.EventuallyAsync(async () => !(await Lab.HealthAsync()).GetProperty("checks").EnumerateArray()
                .Single(c => c.GetProperty("name").GetString() == "queues").GetProperty("healthy").GetBoolean(), "health reporting the queues down", TimeSpan.FromSeconds(30));
            await Task.Delay(Outage);
        }
        finally
        {
            await Lab.Azurite.StartAgainAsync();
        }
        var recovered = DateTimeOffset.UtcNow;

        await AssertRecoveredAsync(recovered);
    }

    [Fact]
    public async Task The_app_killed_with_SIGKILL_and_started_again_loses_no_message_and_polling_catches_up()
    {
        await SteadyAsync();
        await Lab.KillAndRestartAppAsync();
        var recovered = DateTimeOffset.UtcNow;

        await AssertRecoveredAsync(recovered);
    }

    /// <summary>Every device polled within the last two intervals before the fault.</summary>
    private async Task SteadyAsync() => await TestApp.EventuallyAsync(
        async () => await Lab.AllPolledSinceAsync() is { } since && since > DateTimeOffset.UtcNow - 2 * Lab.Interval,
        "every device polled recently", TimeSpan.FromSeconds(90));

    private async Task AssertRecoveredAsync(DateTimeOffset recovered)
    {
        var from = recovered + 2 * Lab.Interval;
        const int windows = 2;
        var until = from + windows * Lab.Interval;
        await TestApp.EventuallyAsync(async () => await Lab.AllPolledSinceAsync() is { } since && since >= until,
            $"every device polled after {until:HH:mm:ss}", TimeSpan.FromSeconds(120));

        var gaps = await Lab.GapsAsync(from, until, TimeSpan.FromSeconds(3));
        Assert.True(gaps.Count == 0, $"intervals without a poll from 2 intervals after recovery: {string.Join(", ", gaps)}\n{Lab.AppOutput}");
        Assert.Equal(0L, await Lab.DuplicateSamplesAsync());
        Assert.Equal(0L, await Lab.InactiveDevicesAsync());
        var poison = await Lab.PoisonCountsAsync();
        Assert.True(poison.Values.All(c => c == 0), $"poison: {string.Join(", ", poison.Select(p => $"{p.Key}={p.Value}"))}\n{Lab.AppOutput}");
    }
}
