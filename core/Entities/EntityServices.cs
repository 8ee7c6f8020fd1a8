using Microsoft.Extensions.DependencyInjection;
using Nms.Core.Api;

namespace Nms.Core.Entities;

public static class EntityServices
{
    /// <summary>The entity API's services, and the <see cref="IApiKeyAuthenticator"/> every HTTP function's gate uses.</summary>
    public static IServiceCollection AddNmsEntities(this IServiceCollection services)
    {
        services.AddSingleton<DiscoveryProfileService>();
        services.AddSingleton<DeviceService>();
        services.AddSingleton<ApiKeyService>();
        services.AddSingleton<IApiKeyAuthenticator>(sp => sp.GetRequiredService<ApiKeyService>());
        return services;
    }
}
