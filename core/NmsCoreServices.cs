using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Diagnostics;
using Nms.Core.Discovery;
using Nms.Core.Entities;
using Nms.Core.Plugins;
using Nms.Core.Polling;
using Nms.Core.Queues;

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

        services.AddSingleton(_ => NmsDataSources.Create(options.Database.ApiConnectionString, options.Database.MetricsConnectionString));
        services.AddSingleton(sp => new MigrationRunner(sp.GetRequiredService<NmsDataSources>().Api, sp.GetRequiredService<ILogger<MigrationRunner>>(), sp.GetServices<IDataMigration>()));
        services.AddSingleton(_ => new StorageQueues(StorageQueues.CreateServiceClient(configuration)));
        services.AddSingleton<IQueueSender>(sp => sp.GetRequiredService<StorageQueues>());
        services.AddSingleton(sp => new SecretSealer(sp.GetRequiredService<CryptoOptions>()));
        services.AddSingleton(sp => new CredentialReader(sp.GetRequiredService<NmsDataSources>().Api, sp.GetRequiredService<SecretSealer>()));
        services.AddSingleton<IPluginRunner, ProcessPluginRunner>();
        services.AddSingleton<SystemHealth>();
        services.AddNmsHealth(configuration);
        services.AddNmsEntities();
        services.AddNmsDiscovery();
        services.AddNmsPolling(configuration);
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
