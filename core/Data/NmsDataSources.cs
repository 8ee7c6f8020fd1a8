using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Nms.Core.Data;

/// <summary>
/// Two pools on purpose (the seed's "dedicated database pool"): <see cref="Api"/> serves the API,
/// scheduler and health consumer; <see cref="Metrics"/> serves only the metrics writer's COPY.
/// </summary>
public sealed class NmsDataSources(NpgsqlDataSource api, NpgsqlDataSource metrics) : IAsyncDisposable
{
    /// <summary>Service key of <see cref="Api"/>: <c>[FromKeyedServices(NmsDataSources.ApiKey)] NpgsqlDataSource</c>.</summary>
    public const string ApiKey = "nms-api";

    /// <summary>Service key of <see cref="Metrics"/>.</summary>
    public const string MetricsKey = "nms-metrics";

    public NpgsqlDataSource Api { get; } = api;
    public NpgsqlDataSource Metrics { get; } = metrics;

    public static NmsDataSources Create(string apiConnectionString, string metricsConnectionString)
    {
        if (string.IsNullOrWhiteSpace(apiConnectionString))
        {
            throw new InvalidOperationException("Setting Nms:Database:ApiConnectionString (env Nms__Database__ApiConnectionString) is empty.");
        }

        var metrics = string.IsNullOrWhiteSpace(metricsConnectionString) ? apiConnectionString : metricsConnectionString;
        return new NmsDataSources(
            Build(apiConnectionString, ApiKey),
            Build(metrics, MetricsKey));
    }

    private static NpgsqlDataSource Build(string connectionString, string defaultApplicationName)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = defaultApplicationName;
        }

        return new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
    }

    public async ValueTask DisposeAsync()
    {
        await Api.DisposeAsync();
        await Metrics.DisposeAsync();
    }
}

public static class DataServices
{
    /// <summary>Both pools, each also as a keyed <see cref="NpgsqlDataSource"/>, so a service names the pool it needs in its constructor.</summary>
    public static IServiceCollection AddNmsDataSources(this IServiceCollection services, string apiConnectionString, string metricsConnectionString)
    {
        services.AddSingleton(_ => NmsDataSources.Create(apiConnectionString, metricsConnectionString));
        services.AddKeyedSingleton(NmsDataSources.ApiKey, (sp, _) => sp.GetRequiredService<NmsDataSources>().Api);
        services.AddKeyedSingleton(NmsDataSources.MetricsKey, (sp, _) => sp.GetRequiredService<NmsDataSources>().Metrics);
        return services;
    }
}
