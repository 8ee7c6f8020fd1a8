using Microsoft.Extensions.DependencyInjection;

namespace Nms.Core.Metrics;

public static class MetricsServices
{
    /// <summary>The metrics writer, its partitions and the metrics queries.</summary>
    public static IServiceCollection AddNmsMetrics(this IServiceCollection services)
    {
        services.AddSingleton<MetricsPartitions>();
        services.AddSingleton<MetricsWriter>();
        services.AddSingleton<MetricsQuery>();
        return services;
    }
}
