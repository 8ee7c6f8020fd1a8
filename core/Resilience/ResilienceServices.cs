using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Nms.Core.Queues;

namespace Nms.Core.Resilience;

public static class ResilienceServices
{
    /// <summary>The circuit, the consumer gate and the holding sender (which becomes the app's <see cref="IQueueSender"/>).</summary>
    public static IServiceCollection AddNmsResilience(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(configuration.GetSection(ResilienceOptions.Section).Get<ResilienceOptions>() ?? new ResilienceOptions());
        services.AddSingleton<DependencyCircuit>();
        services.AddSingleton<ConsumerGate>();
        services.AddSingleton<HoldingQueueSender>();
        services.AddSingleton<IQueueSender>(sp => sp.GetRequiredService<HoldingQueueSender>());
        return services;
    }
}
