using Microsoft.Extensions.DependencyInjection;
using Nms.Core.Data;

namespace Nms.Core.Metrics;

public static class MetricsServices
{
    /// <summary>The metrics writer, series catalog, compaction, partitions, queries and the v2 backfill.</summary>
    public static IServiceCollection AddNmsMetrics(this IServiceCollection services)
    {
        services.AddSingleton<MetricsPartitions>();
        services.AddSingleton<MetricSeriesCatalog>();
        services.AddSingleton<MetricsWriter>();
        services.AddSingleton<MetricsCompactor>();
        services.AddSingleton<MetricsQuery>();
        services.AddSingleton<IDataMigration, MetricsBackfill>();
        return services;
    }
}
