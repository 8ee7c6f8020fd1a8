using Nms.Testing;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Observability;

/// <summary>The app's own metrics (the <c>Nms</c> meter through OpenTelemetry) as a real Prometheus scrapes them.</summary>
public sealed class PrometheusScrapeTests : IDisposable
{
    private readonly FakePlugins plugins = new();

    public void Dispose() => plugins.Dispose();

    [Fact]
    public async Task Prometheus_scraping_the_app_sees_polls_lag_and_rows_written()
    {
        plugins.AddEcho("echo");
        var port = FreePort.Tcp();
        await using var app = await TestApp.StartAsync(o =>
        {
            o.EnabledTimers.Add("PollScheduler");
            o.Settings["NmsSchedulerSchedule"] = "*/1 * * * * *";
            o.Settings["Nms:Plugins:Directory"] = plugins.Directory;
            o.Settings["Nms:Reachability:Mode"] = "tcp";
            o.Settings["Nms:Telemetry:PrometheusPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        });
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        await app.Database.DataSource.AddDeviceAsync("127.0.0.1", ((System.Net.IPEndPoint)listener.LocalEndpoint).Port, "echo", dueAt: DateTimeOffset.UtcNow, intervalSeconds: 10);
        using var prometheus = await PrometheusServer.StartAsync($"127.0.0.1:{port}");

        foreach (var query in new[]
        {
            "sum(nms_polling_devices_polled_total)",
            "sum(nms_polling_poll_lag_seconds_count)",
            "sum(nms_metrics_rows_written_total)",
        })
        {
            await TestApp.EventuallyAsync(async () => await prometheus.QueryAsync(query) > 0, $"Prometheus answering {query} with a value above 0\n{prometheus.Output}", TimeSpan.FromSeconds(60));
        }
    }
}
