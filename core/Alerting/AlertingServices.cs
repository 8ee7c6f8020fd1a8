using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Nms.Core.Alerting;
using Nms.Core.Configuration;
using Nms.Core.Health;

// In the root namespace so NmsCoreServices calls it without a using of its own.
namespace Nms.Core;

public static class AlertingServices
{
    /// <summary>Tags, rules, channels, maintenance windows, silences, the evaluator and the delivery consumer.</summary>
    public static IServiceCollection AddNmsAlerting(this IServiceCollection services)
    {
        services.AddSingleton(sp => sp.GetRequiredService<NmsOptions>().Alerting);
        services.AddSingleton<TagService>();
        services.AddSingleton<AlertRuleService>();
        services.AddSingleton<ChannelService>();
        services.AddSingleton<MaintenanceService>();
        // Maintenance windows with suppress_deactivation hold the health monitor's deactivations.
        services.Replace(ServiceDescriptor.Singleton<IDeactivationHold>(sp => sp.GetRequiredService<MaintenanceService>()));
        services.AddSingleton<AlertService>();
        services.TryAddSingleton<INotificationSender, NotificationSender>();
        services.AddSingleton<AlertEvaluator>();
        services.AddSingleton<NotificationDelivery>();
        return services;
    }
}
