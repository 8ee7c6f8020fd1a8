using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Nms.Core.Plugins;

public static class PluginServices
{
    /// <summary>The bounded pool of plugin processes and the one way features run a plugin over their targets.</summary>
    public static IServiceCollection AddNmsPlugins(this IServiceCollection services)
    {
        services.TryAddSingleton<IPluginRunner, ProcessPluginRunner>();
        services.AddSingleton<PluginTargetRunner>();
        return services;
    }
}
