namespace Nms.Core.Resilience;

/// <summary>What the app depends on, named as <c>GET /api/health</c> names its checks.</summary>
public enum Dependency
{
    PostgresApi,
    PostgresMetrics,
    Queues,
}

public static class DependencyNames
{
    public static string Name(this Dependency dependency) => dependency switch
    {
        Dependency.PostgresApi => "postgres_api",
        Dependency.PostgresMetrics => "postgres_metrics",
        _ => "queues",
    };
}
