using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nms.Core.Api;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Plugins;

namespace Nms.Core.Entities;

public static class EntityServices
{
    /// <summary>The entity API's services, and the <see cref="IApiKeyAuthenticator"/> every HTTP function's gate uses.</summary>
    public static IServiceCollection AddNmsEntities(this IServiceCollection services)
    {
        services.AddSingleton(sp => new CredentialProfileService(
            sp.GetRequiredService<NmsDataSources>().Api, sp.GetRequiredService<CredentialReader>(), sp.GetRequiredService<SecretSealer>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<CredentialProfileService>>()));
        services.AddSingleton(sp => new DiscoveryProfileService(
            sp.GetRequiredService<NmsDataSources>().Api, sp.GetRequiredService<IPluginRunner>(), sp.GetRequiredService<DiscoveryOptions>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<DiscoveryProfileService>>()));
        services.AddSingleton(sp => new PollProfileService(
            sp.GetRequiredService<NmsDataSources>().Api, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<PollProfileService>>()));
        services.AddSingleton(sp => new DeviceService(
            sp.GetRequiredService<NmsDataSources>().Api, sp.GetRequiredService<IPluginRunner>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<DeviceService>>()));
        services.AddSingleton(sp => new ApiKeyService(
            sp.GetRequiredService<NmsDataSources>().Api, sp.GetRequiredService<AuthOptions>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ApiKeyService>>()));
        services.AddSingleton<IApiKeyAuthenticator>(sp => sp.GetRequiredService<ApiKeyService>());
        return services;
    }
}
