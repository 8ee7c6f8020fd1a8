using Microsoft.Extensions.DependencyInjection;
using Nms.Core.Plugins;

namespace Nms.Core.Credentials;

public static class CredentialServices
{
    /// <summary>Sealing, reading and the API of credential profiles.</summary>
    public static IServiceCollection AddNmsCredentials(this IServiceCollection services)
    {
        services.AddSingleton<SecretSealer>();
        services.AddSingleton<CredentialReader>();
        services.AddSingleton<IPluginCredentials>(sp => sp.GetRequiredService<CredentialReader>());
        services.AddSingleton<CredentialProfileService>();
        return services;
    }
}
