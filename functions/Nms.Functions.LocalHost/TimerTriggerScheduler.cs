using System.Globalization;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NCrontab;

namespace Nms.Functions.LocalHost;

/// <summary>
/// One timer trigger: the NCRONTAB schedule (six fields, seconds first) or a TimeSpan, from the
/// attribute with <c>%Setting%</c> resolved; one run at a time, a slow run skips missed ticks.
/// </summary>
public sealed class TimerTriggerScheduler(FunctionDescriptor function, FunctionInvoker invoker, IConfiguration configuration, ILoggerFactory loggerFactory, TimeProvider time)
    : BackgroundService
{
    private readonly ILogger logger = loggerFactory.CreateLogger($"Function.{function.Name}");

    public string Schedule { get; } = BindingExpressions.Resolve(function.Timer.Schedule, configuration);

    public static Func<DateTime, DateTime> Parse(string schedule)
    {
        if (schedule.Contains(':', StringComparison.Ordinal) && TimeSpan.TryParse(schedule, CultureInfo.InvariantCulture, out var interval))
        {
            return last => last + interval;
        }

        var fields = schedule.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        var cron = CrontabSchedule.Parse(schedule, new CrontabSchedule.ParseOptions { IncludingSeconds = fields == 6 });
        return cron.GetNextOccurrence;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var next = Parse(Schedule);
        DateTime? last = null;
        if (function.Timer.RunOnStartup)
        {
            await RunAsync(last, time.GetUtcNow().UtcDateTime, stoppingToken);
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow().UtcDateTime;
            // Task.Delay may wake a hair before its due time: never fire the same occurrence twice.
            var due = next(last is { } previous && previous > now ? previous : now);
            try
            {
                await Task.Delay(due - now, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            await RunAsync(last, due, stoppingToken);
            last = due;
        }
    }

    private async Task RunAsync(DateTime? last, DateTime due, CancellationToken cancellationToken)
    {
        var info = new TimerInfo
        {
            IsPastDue = time.GetUtcNow().UtcDateTime - due > TimeSpan.FromSeconds(5),
            ScheduleStatus = new ScheduleStatus { Last = last ?? default, Next = Parse(Schedule)(due), LastUpdated = due },
        };
        try
        {
            await invoker.InvokeAsync(function, info, null, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Timer function {Function} failed", function.Name);
        }
    }
}
