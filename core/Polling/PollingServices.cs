using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Metrics;

namespace Nms.Core.Polling;

public static class PollingServices
{
    /// <summary>The polling pipeline and the metrics writer, maintenance and queries.</summary>
    public static IServiceCollection AddNmsPolling(this IServiceCollection services, IConfiguration configuration)
    {
        var udpPlugins = (configuration[ReachabilityChecker.UdpPluginsSetting] ?? "snmp").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        services.AddSingleton<PollingInstruments>();
        services.AddSingleton<FpingReachability>();
        services.AddSingleton<TcpReachability>();
        services.AddSingleton(sp => new ReachabilityChecker(
            sp.GetRequiredService<ReachabilityOptions>(), sp.GetRequiredService<FpingReachability>(), sp.GetRequiredService<TcpReachability>(), udpPlugins));
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<PollScheduler>(sp, sp.GetRequiredService<NmsDataSources>().Api));
        services.AddSingleton<Poller>();
        services.AddSingleton(sp => new MetricsPartitions(
            sp.GetRequiredService<NmsDataSources>().Metrics, sp.GetRequiredService<MetricsOptions>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<MetricsPartitions>>()));
        services.AddSingleton(sp => new MetricSeriesCatalog(sp.GetRequiredService<NmsDataSources>().Metrics));
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<MetricsWriter>(sp, sp.GetRequiredService<NmsDataSources>().Metrics));
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<MetricsCompactor>(sp, sp.GetRequiredService<NmsDataSources>().Metrics));
        services.AddSingleton<MetricsQuery>();
        services.AddSingleton<IDataMigration>(sp => new MetricsBackfill(sp.GetRequiredService<MetricsOptions>(), sp.GetRequiredService<ILogger<MetricsBackfill>>()));
        return services;
    }
}
