using Microsoft.Extensions.DependencyInjection;

namespace Nms.Core.Polling;

public static class PollingServices
{
    /// <summary>The scheduler and the poller.</summary>
    public static IServiceCollection AddNmsPolling(this IServiceCollection services)
    {
        services.AddSingleton<PollScheduler>();
        services.AddSingleton<Poller>();
        return services;
    }
}
