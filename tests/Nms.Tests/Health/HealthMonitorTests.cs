using Microsoft.Extensions.Logging;
using Nms.Core.Alerting;
using Nms.Core.Health;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Health;

/// <summary>The failure consumer against real PostgreSQL, times passed in from a fake clock.</summary>
public sealed class HealthMonitorTests : IAsyncLifetime
{
    private HealthFixture fx = null!;

    public async Task InitializeAsync() => fx = await HealthFixture.CreateAsync();

    public async Task DisposeAsync() => await fx.DisposeAsync();

    [Theory]
    [InlineData(-1, 2)]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    public async Task Gap_around_the_window_increments_or_resets_in_the_database(long ticksAfterWindow, int expectedCount)
    {
        var device = await fx.AddDeviceAsync();
        var monitor = fx.Monitor();
        var first = fx.Time.GetUtcNow();
        await monitor.RecordFailureAsync(fx.Failure(device, first), default);
        fx.Time.Advance(TimeSpan.FromSeconds(fx.Options.WindowSeconds) + TimeSpan.FromTicks(ticksAfterWindow));

        var outcome = await monitor.RecordFailureAsync(fx.Failure(device, fx.Time.GetUtcNow()), default);

        Assert.Equal(FailureOutcome.Counted, outcome);
        var row = await fx.ReadAsync(device);
        Assert.Equal(expectedCount, row.FailureCount);
        Assert.Equal("active", row.Status);
        Assert.True(row.LastFailureAt > first);
    }

    [Fact]
    public async Task A_maintenance_window_with_suppress_deactivation_holds_the_deactivation_until_it_ends()
    {
        var held = await fx.AddDeviceAsync();
        var alertsOnly = await fx.AddDeviceAsync();
        var maintenance = new MaintenanceService(fx.Database.DataSource, fx.Time, fx.Loggers.CreateLogger<MaintenanceService>());
        var ends = fx.Time.GetUtcNow().AddMinutes(6);
        await maintenance.CreateAsync(new MaintenanceWindowRequest("patching", "one_off", fx.Time.GetUtcNow(), ends, ScopeDeviceIds: [held], SuppressDeactivation: true), default);
        await maintenance.CreateAsync(new MaintenanceWindowRequest("alerts only", "one_off", fx.Time.GetUtcNow(), ends, ScopeDeviceIds: [alertsOnly]), default);
        var monitor = fx.Monitor();
        var outcomes = new List<FailureOutcome>();

        for (var i = 0; i < fx.Options.Threshold + 2; i++)
        {
            fx.Time.Advance(TimeSpan.FromSeconds(60));
            outcomes.Add(await monitor.RecordFailureAsync(fx.Failure(held, fx.Time.GetUtcNow()), default));
            await monitor.RecordFailureAsync(fx.Failure(alertsOnly, fx.Time.GetUtcNow()), default);
        }

        Assert.Equal([FailureOutcome.Counted, FailureOutcome.Counted, FailureOutcome.DeactivationHeld, FailureOutcome.DeactivationHeld, FailureOutcome.DeactivationHeld], outcomes);
        var row = await fx.ReadAsync(held);
        Assert.Equal(("active", fx.Options.Threshold + 2, true), (row.Status, row.FailureCount, row.Scheduled));
        Assert.Equal(3, fx.Logs.Lines.Count(line => line.Contains("held by maintenance window", StringComparison.Ordinal) && line.Contains("'patching'", StringComparison.Ordinal)));
        Assert.Equal("inactive", (await fx.ReadAsync(alertsOnly)).Status);

        // The window ends (a failure at its end instant is outside it): the next failure deactivates.
        fx.Time.SetUtcNow(ends);
        Assert.Equal(FailureOutcome.Deactivated, await monitor.RecordFailureAsync(fx.Failure(held, fx.Time.GetUtcNow()), default));
        row = await fx.ReadAsync(held);
        Assert.Equal(("inactive", false), (row.Status, row.Scheduled));
        Assert.Equal(1, await fx.TransitionsAsync(held, "deactivated"));
    }

    [Fact]
    public async Task Threshold_minus_one_failures_leave_the_device_active_and_scheduled()
    {
        var device = await fx.AddDeviceAsync();
        var monitor = fx.Monitor();

        for (var i = 0; i < fx.Options.Threshold - 1; i++)
        {
            Assert.Equal(FailureOutcome.Counted, await monitor.RecordFailureAsync(fx.Failure(device, fx.Time.GetUtcNow()), default));
            fx.Time.Advance(TimeSpan.FromSeconds(60));
        }

        var row = await fx.ReadAsync(device);
        Assert.Equal(("active", 2, true), (row.Status, row.FailureCount, row.Scheduled));
        Assert.Null(row.DeactivatedAt);
    }

    [Fact]
    public async Task Threshold_failures_within_the_window_deactivate_and_unschedule_the_device_only()
    {
        var device = await fx.AddDeviceAsync();
        var neighbour = await fx.AddDeviceAsync();
        var monitor = fx.Monitor();
        var outcomes = new List<FailureOutcome>();

        for (var i = 0; i < fx.Options.Threshold; i++)
        {
            fx.Time.Advance(TimeSpan.FromSeconds(60));
            var reason = i == fx.Options.Threshold - 1 ? FailureEvent.PingReason : FailureEvent.PollReason;
            outcomes.Add(await monitor.RecordFailureAsync(fx.Failure(device, fx.Time.GetUtcNow(), reason, $"error {i}"), default));
        }

        Assert.Equal([FailureOutcome.Counted, FailureOutcome.Counted, FailureOutcome.Deactivated], outcomes);
        var row = await fx.ReadAsync(device);
        Assert.Equal("inactive", row.Status);
        Assert.Equal(3, row.FailureCount);
        Assert.Equal(("ping", "error 2"), (row.DeactivationReason, row.DeactivationError));
        Assert.Equal(("ping", "error 2"), (row.LastFailureReason, row.LastFailureError));
        Assert.Equal(fx.Time.GetUtcNow(), row.DeactivatedAt);
        Assert.False(row.Scheduled);
        Assert.Equal(fx.Time.GetUtcNow() + TimeSpan.FromSeconds(fx.Recovery.RecoveryBackoffBaseSeconds), row.NextProbeAt);
        Assert.Equal(1, await fx.TransitionsAsync(device, "deactivated"));
        Assert.True((await fx.ReadAsync(neighbour)).Scheduled);
        Assert.Single(fx.Logs.Lines, line => line.Contains("deactivated", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Redelivered_event_is_not_counted_twice()
    {
        var device = await fx.AddDeviceAsync();
        var monitor = fx.Monitor();
        var failure = fx.Failure(device, fx.Time.GetUtcNow());

        Assert.Equal(FailureOutcome.Counted, await monitor.RecordFailureAsync(failure, default));
        Assert.Equal(FailureOutcome.Duplicate, await monitor.RecordFailureAsync(failure, default));
        Assert.Equal(FailureOutcome.Duplicate, await monitor.RecordFailureAsync(failure, default));

        Assert.Equal(1, (await fx.ReadAsync(device)).FailureCount);
    }

    [Fact]
    public async Task Events_for_deleted_or_inactive_devices_are_dropped_without_a_trace()
    {
        var deleted = await fx.AddDeviceAsync();
        await fx.Database.DataSource.DeleteDeviceAsync(deleted);
        var inactive = await fx.AddDeviceAsync(threshold: 1);
        var monitor = fx.Monitor();
        Assert.Equal(FailureOutcome.Deactivated, await monitor.RecordFailureAsync(fx.Failure(inactive, fx.Time.GetUtcNow()), default));
        fx.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(FailureOutcome.UnknownDevice, await monitor.RecordFailureAsync(fx.Failure(deleted, fx.Time.GetUtcNow()), default));
        Assert.Equal(FailureOutcome.DeviceInactive, await monitor.RecordFailureAsync(fx.Failure(inactive, fx.Time.GetUtcNow()), default));

        Assert.Equal(1, (await fx.ReadAsync(inactive)).FailureCount);
        Assert.Equal(1, await fx.TransitionsAsync(inactive, "deactivated"));
        Assert.Equal(1L, await fx.Database.ScalarAsync<long>("SELECT count(*) FROM failure_events"));
    }

    [Fact]
    public async Task Per_device_threshold_and_window_override_the_settings()
    {
        var strict = await fx.AddDeviceAsync(threshold: 1);
        var shortWindow = await fx.AddDeviceAsync(windowSeconds: 10);
        var monitor = fx.Monitor();

        Assert.Equal(FailureOutcome.Deactivated, await monitor.RecordFailureAsync(fx.Failure(strict, fx.Time.GetUtcNow()), default));
        await monitor.RecordFailureAsync(fx.Failure(shortWindow, fx.Time.GetUtcNow()), default);
        fx.Time.Advance(TimeSpan.FromSeconds(10));
        await monitor.RecordFailureAsync(fx.Failure(shortWindow, fx.Time.GetUtcNow()), default);

        Assert.Equal(1, (await fx.ReadAsync(shortWindow)).FailureCount);
    }

    [Fact]
    public async Task Late_event_within_the_window_counts_without_moving_last_failure_back()
    {
        var device = await fx.AddDeviceAsync();
        var monitor = fx.Monitor();
        var early = fx.Time.GetUtcNow();
        fx.Time.Advance(TimeSpan.FromSeconds(100));
        var late = fx.Time.GetUtcNow();

        await monitor.RecordFailureAsync(fx.Failure(device, late, FailureEvent.PingReason, "newest"), default);
        var outcome = await monitor.RecordFailureAsync(fx.Failure(device, early, FailureEvent.PollReason, "older"), default);

        Assert.Equal(FailureOutcome.CountedLate, outcome);
        var row = await fx.ReadAsync(device);
        Assert.Equal((2, late, "ping", "newest"), (row.FailureCount, row.LastFailureAt, row.LastFailureReason, row.LastFailureError));
    }

    [Fact]
    public async Task Late_event_reaching_the_threshold_records_the_newest_failure_as_the_reason()
    {
        var device = await fx.AddDeviceAsync(threshold: 2);
        var monitor = fx.Monitor();
        var early = fx.Time.GetUtcNow();
        fx.Time.Advance(TimeSpan.FromSeconds(30));

        await monitor.RecordFailureAsync(fx.Failure(device, fx.Time.GetUtcNow(), FailureEvent.PollReason, "newest"), default);
        var outcome = await monitor.RecordFailureAsync(fx.Failure(device, early, FailureEvent.PingReason, "older"), default);

        Assert.Equal(FailureOutcome.Deactivated, outcome);
        var row = await fx.ReadAsync(device);
        Assert.Equal(("poll", "newest"), (row.DeactivationReason, row.DeactivationError));
    }

    [Fact]
    public async Task Event_a_window_older_than_the_last_failure_is_ignored_and_its_redelivery_too()
    {
        var device = await fx.AddDeviceAsync();
        var monitor = fx.Monitor();
        var stale = fx.Failure(device, fx.Time.GetUtcNow());
        fx.Time.Advance(TimeSpan.FromSeconds(fx.Options.WindowSeconds));
        await monitor.RecordFailureAsync(fx.Failure(device, fx.Time.GetUtcNow()), default);

        Assert.Equal(FailureOutcome.IgnoredStale, await monitor.RecordFailureAsync(stale, default));
        Assert.Equal(FailureOutcome.Duplicate, await monitor.RecordFailureAsync(stale, default));

        var row = await fx.ReadAsync(device);
        Assert.Equal((1, fx.Time.GetUtcNow()), (row.FailureCount, row.LastFailureAt));
    }

    [Fact]
    public async Task Event_from_a_clock_ahead_of_ours_is_taken_as_now()
    {
        var device = await fx.AddDeviceAsync();

        await fx.Monitor().RecordFailureAsync(fx.Failure(device, fx.Time.GetUtcNow().AddHours(1)), default);

        Assert.Equal(fx.Time.GetUtcNow(), (await fx.ReadAsync(device)).LastFailureAt);
    }

    [Theory]
    [InlineData("crash")]
    [InlineData("")]
    public async Task Event_with_an_unknown_reason_is_dropped_as_invalid(string reason)
    {
        var device = await fx.AddDeviceAsync();

        var outcome = await fx.Monitor().RecordFailureAsync(fx.Failure(device, fx.Time.GetUtcNow(), reason), default);

        Assert.Equal(FailureOutcome.Invalid, outcome);
        Assert.Equal(0, (await fx.ReadAsync(device)).FailureCount);
        Assert.Contains(fx.Logs.Lines, line => line.Contains("invalid", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Long_error_is_cut_to_the_stored_maximum()
    {
        var device = await fx.AddDeviceAsync();

        await fx.Monitor().RecordFailureAsync(fx.Failure(device, fx.Time.GetUtcNow(), error: new string('x', 5_000)), default);

        Assert.Equal(HealthMonitor.MaxErrorLength, (await fx.ReadAsync(device)).LastFailureError!.Length);
    }

    [Fact]
    public async Task Successful_poll_clearing_the_count_means_threshold_new_failures_are_needed()
    {
        var device = await fx.AddDeviceAsync();
        var monitor = fx.Monitor();
        for (var i = 0; i < fx.Options.Threshold - 1; i++)
        {
            fx.Time.Advance(TimeSpan.FromSeconds(10));
            await monitor.RecordFailureAsync(fx.Failure(device, fx.Time.GetUtcNow()), default);
        }

        await fx.ClearFailuresAfterSuccessfulPollAsync(device);
        for (var i = 0; i < fx.Options.Threshold - 1; i++)
        {
            fx.Time.Advance(TimeSpan.FromSeconds(10));
            Assert.Equal(FailureOutcome.Counted, await monitor.RecordFailureAsync(fx.Failure(device, fx.Time.GetUtcNow()), default));
        }

        fx.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(FailureOutcome.Deactivated, await monitor.RecordFailureAsync(fx.Failure(device, fx.Time.GetUtcNow()), default));
    }

    [Fact]
    public async Task Operator_reactivation_starts_a_fresh_count()
    {
        var device = await fx.AddDeviceAsync(threshold: 2);
        var monitor = fx.Monitor();
        await monitor.RecordFailureAsync(fx.Failure(device, fx.Time.GetUtcNow()), default);
        fx.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(FailureOutcome.Deactivated, await monitor.RecordFailureAsync(fx.Failure(device, fx.Time.GetUtcNow()), default));

        await fx.OperatorReactivatesAsync(device);
        fx.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(FailureOutcome.Counted, await monitor.RecordFailureAsync(fx.Failure(device, fx.Time.GetUtcNow()), default));
        var row = await fx.ReadAsync(device);
        Assert.Equal(("active", 1, true), (row.Status, row.FailureCount, row.Scheduled));
    }

    [Fact]
    public async Task Fifty_concurrent_consumers_on_one_device_deactivate_it_exactly_once()
    {
        var device = await fx.AddDeviceAsync();
        var start = fx.Time.GetUtcNow();
        var events = Enumerable.Range(0, 50).Select(i => fx.Failure(device, start + TimeSpan.FromMilliseconds(i * 10))).ToList();
        // Ten of them delivered twice, at the same time as the first delivery.
        var deliveries = events.Concat(events.Take(10)).ToList();
        var outcomes = await ConsumeAllAtOnceAsync(deliveries);

        Assert.Single(outcomes, o => o == FailureOutcome.Deactivated);
        Assert.Equal(fx.Options.Threshold - 1, outcomes.Count(o => o is FailureOutcome.Counted or FailureOutcome.CountedLate));
        var row = await fx.ReadAsync(device);
        Assert.Equal(("inactive", 3, false), (row.Status, row.FailureCount, row.Scheduled));
        Assert.Equal(1, await fx.TransitionsAsync(device, "deactivated"));
        Assert.Single(fx.Logs.Lines, line => line.Contains("deactivated", StringComparison.Ordinal));
        Assert.Equal(3L, await fx.Database.ScalarAsync<long>("SELECT count(*) FROM failure_events WHERE device_id = $1", device));
    }

    [Fact]
    public async Task Fifty_concurrent_deliveries_of_one_event_count_it_once()
    {
        var device = await fx.AddDeviceAsync();
        var failure = fx.Failure(device, fx.Time.GetUtcNow());
        var outcomes = await ConsumeAllAtOnceAsync(Enumerable.Repeat(failure, 50));

        Assert.Single(outcomes, o => o == FailureOutcome.Counted);
        Assert.Equal(49, outcomes.Count(o => o == FailureOutcome.Duplicate));
        Assert.Equal(1, (await fx.ReadAsync(device)).FailureCount);
    }

    [Fact]
    public async Task Processed_event_ids_are_forgotten_after_the_retention_only()
    {
        var device = await fx.AddDeviceAsync();
        var monitor = fx.Monitor();
        await monitor.RecordFailureAsync(fx.Failure(device, fx.Time.GetUtcNow()), default);
        fx.Time.Advance(TimeSpan.FromDays(fx.Recovery.FailureEventRetentionDays) - TimeSpan.FromSeconds(1));
        await monitor.RecordFailureAsync(fx.Failure(device, fx.Time.GetUtcNow()), default);
        fx.Time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(1, await monitor.PruneProcessedEventsAsync(default));
        Assert.Equal(1L, await fx.Database.ScalarAsync<long>("SELECT count(*) FROM failure_events"));
    }

    /// <summary>One consumer per event, all released together on a warm pool, so their transactions overlap.</summary>
    private async Task<FailureOutcome[]> ConsumeAllAtOnceAsync(IEnumerable<FailureEvent> deliveries)
    {
        await fx.WarmPoolAsync(50);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var consumers = deliveries.Select(failure => Task.Run(async () =>
        {
            await gate.Task;
            return await fx.Monitor().RecordFailureAsync(failure, default);
        })).ToList();

        gate.SetResult();
        return await Task.WhenAll(consumers);
    }
}
