using NCrontab;

namespace Nms.Core.Alerting;

/// <summary>Whether a maintenance window is open at an instant, in the window's own time zone (DST included).</summary>
public static class MaintenanceSchedule
{
    public static readonly IReadOnlyList<string> Weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

    public static bool IsActive(MaintenanceWindow window, DateTimeOffset now)
    {
        if (window.Kind == "one_off")
        {
            return window.StartsAt <= now && now < window.EndsAt;
        }

        var zone = TimeZoneInfo.FindSystemTimeZoneById(window.TimeZone);
        var local = TimeZoneInfo.ConvertTime(now, zone).DateTime;
        var duration = TimeSpan.FromSeconds(window.DurationSeconds ?? 0);
        return window.Kind == "weekly" ? WeeklyActive(window, local, duration) : CronActive(window.Cron!, local, duration);
    }

    /// <summary>Some start (day in the list, at start_time) in (local − duration, local].</summary>
    private static bool WeeklyActive(MaintenanceWindow window, DateTime local, TimeSpan duration)
    {
        var time = TimeOnly.ParseExact(window.StartTime!, "HH:mm", System.Globalization.CultureInfo.InvariantCulture).ToTimeSpan();
        for (var day = (local - duration).Date.AddDays(-1); day <= local.Date; day = day.AddDays(1))
        {
            var start = day + time;
            if (window.Weekdays.Contains(Weekdays[((int)day.DayOfWeek + 6) % 7], StringComparer.Ordinal) && start <= local && local < start + duration)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>An occurrence of the NCRONTAB expression in (local − duration, local].</summary>
    private static bool CronActive(string cron, DateTime local, TimeSpan duration)
    {
        var schedule = CrontabSchedule.Parse(cron, new CrontabSchedule.ParseOptions { IncludingSeconds = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6 });
        var next = schedule.GetNextOccurrence(local - duration - TimeSpan.FromSeconds(1));
        return next <= local && local < next + duration;
    }

    public static bool TryParseCron(string cron) =>
        CrontabSchedule.TryParse(cron, new CrontabSchedule.ParseOptions { IncludingSeconds = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6 }) is not null;
}
