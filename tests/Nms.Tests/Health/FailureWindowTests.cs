using Microsoft.Extensions.Time.Testing;
using Nms.Core.Health;
using Xunit;

namespace Nms.Tests.Health;

public sealed class FailureWindowTests
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(300);
    private const int Threshold = 3;

    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 11, 27, 3, 0, 0, TimeSpan.Zero));

    [Fact]
    public void First_failure_counts_one_and_becomes_the_last_failure()
    {
        var at = time.GetUtcNow();

        var decision = FailureWindow.Apply(new FailureState(0, null), at, Window, Threshold);

        Assert.Equal(FailureEffect.Counted, decision.Effect);
        Assert.Equal(new FailureState(1, at), decision.State);
        Assert.False(decision.ReachesThreshold);
    }

    [Fact]
    public void Gap_of_window_minus_one_tick_increments_the_count()
    {
        var first = time.GetUtcNow();
        time.Advance(Window - TimeSpan.FromTicks(1));

        var decision = FailureWindow.Apply(new FailureState(1, first), time.GetUtcNow(), Window, Threshold);

        Assert.Equal(new FailureState(2, time.GetUtcNow()), decision.State);
    }

    [Fact]
    public void Gap_of_exactly_the_window_resets_the_count_to_one()
    {
        var first = time.GetUtcNow();
        time.Advance(Window);

        var decision = FailureWindow.Apply(new FailureState(2, first), time.GetUtcNow(), Window, Threshold);

        Assert.Equal(FailureEffect.Counted, decision.Effect);
        Assert.Equal(new FailureState(1, time.GetUtcNow()), decision.State);
        Assert.False(decision.ReachesThreshold);
    }

    [Fact]
    public void Gap_of_window_plus_one_tick_resets_the_count_to_one()
    {
        var first = time.GetUtcNow();
        time.Advance(Window + TimeSpan.FromTicks(1));

        var decision = FailureWindow.Apply(new FailureState(2, first), time.GetUtcNow(), Window, Threshold);

        Assert.Equal(new FailureState(1, time.GetUtcNow()), decision.State);
    }

    [Fact]
    public void Count_of_threshold_minus_one_does_not_reach_the_threshold()
    {
        var state = new FailureState(0, null);
        for (var i = 0; i < Threshold - 1; i++)
        {
            var decision = FailureWindow.Apply(state, time.GetUtcNow(), Window, Threshold);
            Assert.False(decision.ReachesThreshold);
            state = decision.State;
            time.Advance(TimeSpan.FromSeconds(10));
        }

        Assert.Equal(Threshold - 1, state.Count);
    }

    [Fact]
    public void Failure_that_makes_the_count_equal_to_the_threshold_reaches_it()
    {
        var last = time.GetUtcNow();
        time.Advance(TimeSpan.FromSeconds(10));

        var decision = FailureWindow.Apply(new FailureState(Threshold - 1, last), time.GetUtcNow(), Window, Threshold);

        Assert.Equal(Threshold, decision.State.Count);
        Assert.True(decision.ReachesThreshold);
    }

    [Fact]
    public void Threshold_of_one_deactivates_on_the_first_failure()
    {
        var decision = FailureWindow.Apply(new FailureState(0, null), time.GetUtcNow(), Window, threshold: 1);

        Assert.True(decision.ReachesThreshold);
    }

    [Fact]
    public void Reset_by_a_long_gap_does_not_reach_a_threshold_above_one()
    {
        var first = time.GetUtcNow();
        time.Advance(Window);

        var decision = FailureWindow.Apply(new FailureState(Threshold - 1, first), time.GetUtcNow(), Window, Threshold);

        Assert.False(decision.ReachesThreshold);
    }

    [Fact]
    public void Late_event_within_the_window_of_the_last_failure_counts_but_never_moves_last_failure_back()
    {
        var late = time.GetUtcNow();
        time.Advance(Window - TimeSpan.FromTicks(1));
        var last = time.GetUtcNow();

        var decision = FailureWindow.Apply(new FailureState(1, last), late, Window, Threshold);

        Assert.Equal(FailureEffect.CountedLate, decision.Effect);
        Assert.Equal(new FailureState(2, last), decision.State);
    }

    [Fact]
    public void Late_event_a_whole_window_before_the_last_failure_is_ignored()
    {
        var late = time.GetUtcNow();
        time.Advance(Window);
        var last = time.GetUtcNow();

        var decision = FailureWindow.Apply(new FailureState(2, last), late, Window, Threshold);

        Assert.Equal(FailureEffect.IgnoredStale, decision.Effect);
        Assert.Equal(new FailureState(2, last), decision.State);
        Assert.False(decision.ReachesThreshold);
    }

    [Fact]
    public void Late_event_can_reach_the_threshold()
    {
        var late = time.GetUtcNow();
        time.Advance(TimeSpan.FromSeconds(30));

        var decision = FailureWindow.Apply(new FailureState(Threshold - 1, time.GetUtcNow()), late, Window, Threshold);

        Assert.True(decision.ReachesThreshold);
    }

    [Fact]
    public void Event_at_the_same_instant_as_the_last_failure_counts_as_in_order()
    {
        var at = time.GetUtcNow();

        var decision = FailureWindow.Apply(new FailureState(1, at), at, Window, Threshold);

        Assert.Equal(FailureEffect.Counted, decision.Effect);
        Assert.Equal(new FailureState(2, at), decision.State);
    }

    [Fact]
    public void Failure_from_before_the_last_reactivation_is_ignored_and_one_at_it_counts()
    {
        var before = time.GetUtcNow();
        time.Advance(TimeSpan.FromTicks(1));
        var reactivatedAt = time.GetUtcNow();
        var state = new FailureState(0, before);

        var old = FailureWindow.Apply(state, before, Window, Threshold, reactivatedAt);
        var fresh = FailureWindow.Apply(state, reactivatedAt, Window, Threshold, reactivatedAt);

        Assert.Equal(FailureEffect.IgnoredStale, old.Effect);
        Assert.Equal((FailureEffect.Counted, 1), (fresh.Effect, fresh.State.Count));
    }

    [Fact]
    public void Any_order_of_a_burst_gives_at_most_the_in_order_count_and_the_same_last_failure()
    {
        var start = time.GetUtcNow();
        // Gaps of 100, 250, 400 (a reset), 50, 299 seconds: the in-order count at the end is 3.
        var offsets = new[] { 0, 100, 350, 750, 800, 1099 };
        var events = offsets.Select(s => start + TimeSpan.FromSeconds(s)).ToArray();
        var inOrder = Replay(events);
        Assert.Equal(3, inOrder.Count);

        var random = new Random(7);
        for (var round = 0; round < 200; round++)
        {
            var shuffled = events.OrderBy(_ => random.Next()).ToArray();
            var state = Replay(shuffled);
            Assert.InRange(state.Count, 1, inOrder.Count);
            Assert.Equal(events[^1], state.LastFailureAt);
        }
    }

    [Fact]
    public void Random_bursts_in_random_order_never_count_more_than_in_order()
    {
        var random = new Random(11);
        for (var round = 0; round < 500; round++)
        {
            var start = time.GetUtcNow();
            var events = Enumerable.Range(0, random.Next(1, 12))
                .Select(_ => start + TimeSpan.FromSeconds(random.Next(0, 1_500)))
                .Order()
                .ToArray();
            var inOrder = Replay(events);

            var state = Replay(events.OrderBy(_ => random.Next()));

            Assert.InRange(state.Count, 1, inOrder.Count);
            Assert.Equal(events[^1], state.LastFailureAt);
        }
    }

    private static FailureState Replay(IEnumerable<DateTimeOffset> events) =>
        events.Aggregate(new FailureState(0, null), (state, at) => FailureWindow.Apply(state, at, Window, int.MaxValue).State);
}
