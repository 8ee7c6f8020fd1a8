using Microsoft.Extensions.DependencyInjection;

namespace Nms.Core.Discovery;

public static class DiscoveryServices
{
    public static IServiceCollection AddNmsDiscovery(this IServiceCollection services)
    {
        services.AddSingleton<DiscoveryRuns>();
        services.AddSingleton<DiscoveryWorker>();
        return services;
    }
}
