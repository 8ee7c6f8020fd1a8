using Azure.Core.Serialization;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Nms.Core.Api;
using Nms.Core;
using Nms.Core.Configuration;
using Nms.Functions.Http;

namespace Nms.Functions;

public static class NmsFunctionsServices
{
    /// <summary>The app's one DI setup: Program.cs (Functions host) and the local host both call it.</summary>
    public static IServiceCollection AddNmsFunctions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddNmsCore(configuration);
        services.TryAddSingleton<IApiKeyAuthenticator, BootstrapKeyAuthenticator>();
        services.AddSingleton<ApiGate>();
        services.AddSingleton<OperatorConsole.ConsoleAssets>();
        // Queue POCOs are read with the same options the senders write them with.
        services.Configure<WorkerOptions>(worker => worker.Serializer = new JsonObjectSerializer(NmsJson.Queue));
        return services;
    }
}
