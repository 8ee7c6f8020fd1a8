using Nms.Core.Alerting;

namespace Nms.Tests.Alerting;

public sealed class MaintenanceScheduleTests
{
    private static MaintenanceWindow Window(string kind, string zone = "Europe/Amsterdam", IReadOnlyList<string>? days = null, string? start = null, string? cron = null, int? duration = 3600,
        DateTimeOffset? startsAt = null, DateTimeOffset? endsAt = null) =>
        new(1, "w", kind, startsAt, endsAt, days ?? [], start, cron, duration, zone, ["site=ams1"], [], false, false, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);

    [Fact]
    public void One_off_window_is_open_from_its_start_up_to_but_not_at_its_end()
    {
        var start = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
        var window = Window("one_off", startsAt: start, endsAt: start.AddHours(2));

        Assert.False(MaintenanceSchedule.IsActive(window, start.AddTicks(-1)));
        Assert.True(MaintenanceSchedule.IsActive(window, start));
        Assert.False(MaintenanceSchedule.IsActive(window, start.AddHours(2)));
    }

    [Fact]
    public void Weekly_window_follows_local_time_in_its_zone_across_daylight_saving()
    {
        // Sundays 02:30 Amsterdam for an hour: 01:30 UTC in winter, 00:30 UTC in summer.
        var window = Window("weekly", days: ["sun"], start: "02:30");

        Assert.True(MaintenanceSchedule.IsActive(window, new DateTimeOffset(2026, 12, 6, 1, 45, 0, TimeSpan.Zero)));
        Assert.False(MaintenanceSchedule.IsActive(window, new DateTimeOffset(2026, 12, 6, 0, 45, 0, TimeSpan.Zero)));
        Assert.True(MaintenanceSchedule.IsActive(window, new DateTimeOffset(2026, 6, 7, 0, 45, 0, TimeSpan.Zero)));
        Assert.False(MaintenanceSchedule.IsActive(window, new DateTimeOffset(2026, 12, 7, 1, 45, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void Weekly_window_running_past_midnight_is_open_on_the_next_day()
    {
        var window = Window("weekly", zone: "UTC", days: ["sat"], start: "23:00", duration: 7200);

        Assert.True(MaintenanceSchedule.IsActive(window, new DateTimeOffset(2026, 12, 6, 0, 30, 0, TimeSpan.Zero)));
        Assert.False(MaintenanceSchedule.IsActive(window, new DateTimeOffset(2026, 12, 6, 1, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void Cron_window_is_open_for_its_duration_after_each_occurrence()
    {
        // Weekdays at 22:00 New York time, 30 minutes.
        var window = Window("cron", zone: "America/New_York", cron: "0 22 * * 1-5", duration: 1800);

        Assert.True(MaintenanceSchedule.IsActive(window, new DateTimeOffset(2026, 12, 2, 3, 10, 0, TimeSpan.Zero)));
        Assert.False(MaintenanceSchedule.IsActive(window, new DateTimeOffset(2026, 12, 2, 3, 30, 0, TimeSpan.Zero)));
        Assert.False(MaintenanceSchedule.IsActive(window, new DateTimeOffset(2026, 12, 6, 3, 10, 0, TimeSpan.Zero)));
    }
}
