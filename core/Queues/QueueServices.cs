using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Nms.Core.Queues;

public static class QueueServices
{
    public const string Section = "Nms:Queues";

    /// <summary>Queue depths, poison counts and replay; the sampler that keeps their gauges current.</summary>
    public static IServiceCollection AddNmsQueues(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(configuration.GetSection(Section).Get<QueueMonitorOptions>() ?? new QueueMonitorOptions());
        services.AddSingleton<QueueMonitor>();
        services.AddHostedService<QueueDepthSampler>();
        return services;
    }
}
