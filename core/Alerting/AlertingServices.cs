using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Nms.Core.Alerting;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Entities;

// In the root namespace so NmsCoreServices calls it without a using of its own.
namespace Nms.Core;

public static class AlertingServices
{
    /// <summary>Tags, rules, channels, maintenance windows, silences, the evaluator and the delivery consumer.</summary>
    public static IServiceCollection AddNmsAlerting(this IServiceCollection services)
    {
        services.AddSingleton(sp => sp.GetRequiredService<NmsOptions>().Alerting);
        services.AddSingleton(sp => new TagService(sp.GetRequiredService<NmsDataSources>().Api, sp.GetRequiredService<ILogger<TagService>>()));
        services.AddSingleton(sp => new AlertRuleService(sp.GetRequiredService<NmsDataSources>().Api, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<AlertRuleService>>()));
        services.AddSingleton(sp => new ChannelService(sp.GetRequiredService<NmsDataSources>().Api, sp.GetRequiredService<SecretSealer>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ChannelService>>()));
        services.AddSingleton(sp => new MaintenanceService(sp.GetRequiredService<NmsDataSources>().Api, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<MaintenanceService>>()));
        services.AddSingleton(sp => new AlertService(sp.GetRequiredService<NmsDataSources>().Api, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<AlertService>>()));
        services.TryAddSingleton<INotificationSender, NotificationSender>();
        services.AddSingleton<AlertEvaluator>();
        services.AddSingleton<NotificationDelivery>();
        return services;
    }
}
