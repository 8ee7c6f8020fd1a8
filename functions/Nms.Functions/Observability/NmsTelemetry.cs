using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nms.Core.Diagnostics;
using Nms.Core.Observability;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Nms.Functions.Observability;

/// <summary>
/// OpenTelemetry for the worker, under both hosts: the <c>Nms</c> meter (polls, lag, failures, rows written, the
/// consumers' circuit), the <c>Nms</c> activity source, and logs; exported to Application Insights (with the app's
/// managed identity, as the Bicep's DisableLocalAuth requires), to OTLP, and to a Prometheus scrape endpoint, each
/// only when configured.
/// </summary>
public static class NmsTelemetry
{
    public const string AppInsightsSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";
    public const string AppInsightsAuthSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";
    public const string OtlpSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static IServiceCollection AddNmsTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        var appInsights = configuration[AppInsightsSetting];
        var otlp = !string.IsNullOrWhiteSpace(configuration[OtlpSetting]);
        if (string.IsNullOrWhiteSpace(appInsights) && !otlp && options.PrometheusPort == 0)
        {
            return services;
        }

        var builder = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(options.ServiceName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(NmsInstruments.MeterName);
                if (options.PrometheusPort > 0)
                {
                    metrics.AddPrometheusHttpListener(listener =>
                    {
                        listener.Host = options.PrometheusHost;
                        listener.Port = options.PrometheusPort;
                    });
                }

                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            })
            .WithTracing(tracing =>
            {
                tracing.AddSource(NmsActivities.SourceName);
                if (otlp)
                {
                    tracing.AddOtlpExporter();
                }
            });
        if (otlp)
        {
            builder.WithLogging(logging => logging.AddOtlpExporter());
        }

        if (!string.IsNullOrWhiteSpace(appInsights))
        {
            var credential = ManagedIdentity(configuration[AppInsightsAuthSetting]);
            builder.UseAzureMonitorExporter(exporter =>
            {
                exporter.ConnectionString = appInsights;
                if (credential is not null)
                {
                    exporter.Credential = credential;
                }
            });
        }

        return services;
    }

    /// <summary><c>ClientId=&lt;id&gt;;Authorization=AAD</c>, as the Functions host reads it, to the identity it names.</summary>
    private static ManagedIdentityCredential? ManagedIdentity(string? authentication)
    {
        var clientId = (authentication ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(part => part.Split('=', 2))
            .FirstOrDefault(pair => pair.Length == 2 && pair[0].Equals("ClientId", StringComparison.OrdinalIgnoreCase))?[1];
        return clientId is null ? null : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
    }
}
