using Microsoft.Extensions.DependencyInjection;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Foundation;

/// <summary>A test app hosting the probe functions on queues of its own.</summary>
public static class ProbeApp
{
    public static async Task<(TestApp App, ProbeLog Log, ProbeQueues Queues)> StartAsync(Action<TestAppOptions>? configure = null, string timerSchedule = "0 0 0 1 1 *")
    {
        var log = new ProbeLog();
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var queues = new ProbeQueues($"probe-echo-{suffix}", $"probe-fail-{suffix}", $"probe-slow-{suffix}");
        var app = await TestApp.StartAsync(options =>
        {
            options.IncludeTestFunctions = true;
            options.EnabledTimers.Add("ProbeTimer");
            options.Settings["ProbeEchoQueue"] = queues.Echo;
            options.Settings["ProbeFailQueue"] = queues.Fail;
            options.Settings["ProbeSlowQueue"] = queues.Slow;
            options.Settings["ProbeTimerSchedule"] = timerSchedule;
            options.ConfigureServices = services => services.AddSingleton(log);
            configure?.Invoke(options);
        });
        return (app, log, queues);
    }
}

public sealed record ProbeQueues(string Echo, string Fail, string Slow);
