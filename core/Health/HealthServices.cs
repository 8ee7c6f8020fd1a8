using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Nms.Core.Configuration;
using Nms.Core.Health;

// In the root namespace so NmsCoreServices calls it without a using of its own.
namespace Nms.Core;

public static class HealthServices
{
    /// <summary>The failure consumer, the recovery probe and the summary reader.</summary>
    public static IServiceCollection AddNmsHealth(this IServiceCollection services, IConfiguration configuration)
    {
        var recovery = configuration.GetSection($"{NmsOptions.Section}:Health").Get<HealthRecoveryOptions>() ?? new HealthRecoveryOptions();
        services.AddSingleton(recovery);
        services.TryAddSingleton<IDeactivationHold>(NoDeactivationHold.Instance);
        services.AddSingleton<HealthMonitor>();
        services.AddSingleton<RecoveryProbe>();
        services.AddSingleton<DeviceHealthReader>();
        return services;
    }
}
