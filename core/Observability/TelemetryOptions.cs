namespace Nms.Core.Observability;

/// <summary>
/// Where the app's own telemetry (the <c>Nms</c> meter, traces, logs) goes. Application Insights when
/// <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set (the Bicep sets it); OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>
/// is set; a Prometheus scrape endpoint when <see cref="PrometheusPort"/> is (locally).
/// </summary>
public sealed class TelemetryOptions
{
    public const string Section = "Nms:Telemetry";

    /// <summary>Serve <c>http://&lt;PrometheusHost&gt;:&lt;port&gt;/metrics</c>; 0 is off.</summary>
    public int PrometheusPort { get; set; }

    public string PrometheusHost { get; set; } = "127.0.0.1";

    public string ServiceName { get; set; } = "nms-functions";
}
