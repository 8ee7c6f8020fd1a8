using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Nms.Core.Data;

/// <summary>
/// Two pools on purpose (the seed's "dedicated database pool"): <see cref="Api"/> serves the API,
/// scheduler, health consumer and every job that holds a session advisory lock (migrations, alert evaluation,
/// compaction); <see cref="Metrics"/> serves the metrics writer (its COPY, series and partitions) and nothing that
/// keeps session state, because it may go through PgBouncer's transaction pooling and its connections are returned
/// without a reset (<c>No Reset On Close</c>).
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
            Build(apiConnectionString, ApiKey, resetOnClose: true),
            Build(metrics, MetricsKey, resetOnClose: false));
    }

    /// <summary>
    /// Without a reset, a pooled connection keeps its prepared statements: the reset Npgsql sends with the next use is
    /// <c>DISCARD ALL</c>, or seven statements once a statement is prepared, and the writer returns its connection once
    /// per group. Measured (<c>./nms bench ingest-groups</c>, groups of one message): the prepared claim with no reset
    /// cost 0.36-0.38 s of PostgreSQL CPU per million samples, about as little as no claim at all, against 0.52-0.78 s
    /// unprepared with the reset.
    /// </summary>
    private static NpgsqlDataSource Build(string connectionString, string defaultApplicationName, bool resetOnClose)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = defaultApplicationName;
        }

        if (!resetOnClose)
        {
            builder.NoResetOnClose = true;
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
