using System.Net;
using System.Text.Json;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Foundation;

public sealed class HealthTests
{
    [Fact]
    public async Task Health_is_200_without_a_key_when_postgres_and_queues_answer()
    {
        await using var app = await TestApp.StartAsync();

        var response = await app.Anonymous.GetAsync("health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("healthy", body.RootElement.GetProperty("status").GetString());
        var checks = body.RootElement.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("healthy").GetBoolean());
        Assert.Equal(new Dictionary<string, bool> { ["postgres_api"] = true, ["postgres_metrics"] = true, ["queues"] = true }, checks);
    }

    [Fact]
    public async Task Health_is_503_naming_the_metrics_pool_when_its_database_is_down()
    {
        await using var app = await TestApp.StartAsync(options =>
        {
            options.Settings["Nms:Database:MetricsConnectionString"] = "Host=127.0.0.1;Port=1;Username=nms;Password=nms;Database=nms;Timeout=2";
        });

        var response = await app.Anonymous.GetAsync("health");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var failing = body.RootElement.GetProperty("checks").EnumerateArray().Where(c => !c.GetProperty("healthy").GetBoolean()).Select(c => c.GetProperty("name").GetString());
        Assert.Equal(["postgres_metrics"], failing);
    }

    [Fact]
    public async Task Health_is_503_naming_the_queues_when_storage_is_unreachable()
    {
        await using var app = await TestApp.StartAsync();
        await using var broken = await TestApp.StartAsync(options =>
        {
            options.Database = app.Database;
            options.Settings["AzureWebJobsStorage"] = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;QueueEndpoint=http://127.0.0.1:1/devstoreaccount1;";
        });

        var response = await broken.Anonymous.GetAsync("health");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("\"queues\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
