using System.Text.Json;
using Nms.Testing;

namespace Nms.Tests.Observability;

/// <summary>A real Prometheus (Debian's, installed by ./nms) scraping one target every second, on ports and storage of its own.</summary>
public sealed class PrometheusServer : DaemonProcess
{
    private PrometheusServer(string directory, int port)
        : base("prometheus", [$"--config.file={Path.Combine(directory, "prometheus.yml")}", $"--storage.tsdb.path={Path.Combine(directory, "data")}",
            $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"], null, directory)
    {
        Address = new Uri($"http://127.0.0.1:{port}/");
    }

    public Uri Address { get; }

    public static async Task<PrometheusServer> StartAsync(string target)
    {
        var directory = Directory.CreateTempSubdirectory("nms-prometheus-").FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, "prometheus.yml"), $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: nms
                static_configs:
                  - targets: ['{target}']
            """);
        var server = new PrometheusServer(directory, FreePort.Tcp());
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await server.WaitUntilReadyAsync(async ct => (await http.GetAsync(new Uri(server.Address, "-/ready"), ct)).IsSuccessStatusCode, TimeSpan.FromSeconds(60), CancellationToken.None);
        return server;
    }

    /// <summary>The instant vector's sum for a PromQL expression, or null while it has no series.</summary>
    public async Task<double?> QueryAsync(string promql)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var json = JsonSerializer.Deserialize<JsonElement>(await http.GetStringAsync(new Uri(Address, "api/v1/query?query=" + Uri.EscapeDataString(promql))));
        var result = json.GetProperty("data").GetProperty("result");
        return result.GetArrayLength() == 0
            ? null
            : result.EnumerateArray().Sum(r => double.Parse(r.GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture));
    }
}
