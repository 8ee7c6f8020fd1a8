using Npgsql;

namespace Nms.Core.Data;

/// <summary>
/// Two pools on purpose (the seed's "dedicated database pool"): <see cref="Api"/> serves the API,
/// scheduler and health consumer; <see cref="Metrics"/> serves only the metrics writer's COPY.
/// </summary>
public sealed class NmsDataSources(NpgsqlDataSource api, NpgsqlDataSource metrics) : IAsyncDisposable
{
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
            Build(apiConnectionString, "nms-api"),
            Build(metrics, "nms-metrics"));
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
