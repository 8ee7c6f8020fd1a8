using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Nms.Core.Reachability;

public static class ReachabilityServices
{
    /// <summary>One checker per process, so its one fping at a time holds for polling, discovery and recovery together.</summary>
    public static IServiceCollection AddNmsReachability(this IServiceCollection services)
    {
        services.AddSingleton<FpingReachability>();
        services.AddSingleton<TcpReachability>();
        services.AddSingleton<ReachabilityChecker>();
        services.TryAddSingleton<IReachability>(sp => sp.GetRequiredService<ReachabilityChecker>());
        return services;
    }
}
