using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Nms.Core.Configuration;
using Nms.Core.Credentials;
using Nms.Core.Data;
using Nms.Core.Diagnostics;
using Nms.Core.Discovery;
using Nms.Core.Entities;
using Nms.Core.Metrics;
using Nms.Core.Plugins;
using Nms.Core.Polling;
using Nms.Core.Queues;
using Nms.Core.Reachability;
using Nms.Core.Resilience;

namespace Nms.Core;

public static class NmsCoreServices
{
    /// <summary>Everything the app needs from core; the Functions host and the local host both call this.</summary>
    public static IServiceCollection AddNmsCore(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(NmsOptions.Section).Get<NmsOptions>() ?? new NmsOptions();
        services.AddSingleton(options);
        services.AddSingleton(options.Database);
        services.AddSingleton(options.Auth);
        services.AddSingleton(options.Crypto);
        services.AddSingleton(options.Plugins);
        services.AddSingleton(options.Reachability);
        services.AddSingleton(options.Discovery);
        services.AddSingleton(options.Polling);
        services.AddSingleton(options.Health);
        services.AddSingleton(options.Metrics);
        services.AddSingleton(QueueNames.From(configuration));
        services.TryAddSingleton(TimeProvider.System);

        services.AddNmsDataSources(options.Database.ApiConnectionString, options.Database.MetricsConnectionString);
        services.AddSingleton<MigrationRunner>();
        services.AddSingleton(_ => new StorageQueues(StorageQueues.CreateServiceClient(configuration)));
        services.AddNmsResilience(configuration);
        services.AddSingleton<NmsInstruments>();
        services.AddSingleton<SystemHealth>();
        services.AddNmsQueues(configuration);
        services.AddNmsCredentials();
        services.AddNmsPlugins();
        services.AddNmsReachability();
        services.AddNmsEntities();
        services.AddNmsDiscovery();
        services.AddNmsPolling();
        services.AddNmsMetrics();
        services.AddNmsHealth(configuration);
        services.AddNmsAlerting();
        if (options.Database.MigrateOnStartup)
        {
            services.AddHostedService<MigrateOnStartup>();
        }

        return services;
    }

    private sealed class MigrateOnStartup(MigrationRunner runner) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => runner.MigrateAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
