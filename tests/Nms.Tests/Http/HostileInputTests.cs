using System.Net;
using System.Text;
using Nms.Tests.Entities;

namespace Nms.Tests.Http;

/// <summary>
/// Issue 17's defects 2, 5 and 6 through the real local host: input that used to be a 500, a
/// loose device address, or an HTTP answer outside problem+json.
/// </summary>
public sealed class HostileInputTests(EntityApp fixture) : IClassFixture<EntityApp>
{
    private HttpClient Admin => fixture.Admin;

    private static int next;

    private static string NextIp()
    {
        var n = Interlocked.Increment(ref next);
        return $"127.17.{n / 250}.{(n % 250) + 1}";
    }

    private async Task<long> DeviceAsync() =>
        (await Admin.CreateAsync("devices", new { ip = NextIp(), port = 161, plugin = "snmp" })).GetProperty("id").GetInt64();

    [Theory]
    [InlineData("to=0001-01-01T00:30:00Z", "to")]
    [InlineData("from=0001-01-01T00:10:00Z&to=0001-01-01T00:30:00Z&fn=rate&step=60", "from")]
    [InlineData("to=9999-12-31T23:59:59Z&fn=avg&step=31d", "to")]
    [InlineData("from=9999-12-31T23:00:00Z&to=9999-12-31T23:59:59Z", "from")]
    [InlineData("name=a%00b", "name")]
    [InlineData("labels[if%00]=eth0", "labels")]
    [InlineData("labels[interface]=eth%000", "labels")]
    public async Task Metrics_query_edges_are_400_naming_the_field(string query, string field)
    {
        var id = await DeviceAsync();

        var response = await Admin.GetJsonAsync($"devices/{id}/metrics?{query}");

        response.AssertProblem(HttpStatusCode.BadRequest, field);
    }

    [Theory]
    [InlineData("devices/{0}/metrics/latest?since=0001-01-01T00:00:00Z")]
    [InlineData("devices/{0}/metrics/latest?since=9999-12-31T23:59:59Z")]
    [InlineData("device_health/transitions?since=0001-01-01T00:00:00Z")]
    [InlineData("device_health/transitions?since=9999-12-31T23:59:59Z")]
    [InlineData("devices?q=a%00b")]
    [InlineData("devices?tag=a%00=b")]
    [InlineData("alerts?tag=a%00=b")]
    [InlineData("alerts?state=a%00b")]
    [InlineData("alerts?device_id=99999999999999999999")]
    [InlineData("devices?limit=99999999999999999999")]
    [InlineData("devices?cursor=%00%00")]
    public async Task Other_query_edges_never_fail_with_a_500(string pathFormat)
    {
        var id = await DeviceAsync();

        var response = await Admin.GetJsonAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, pathFormat, id));

        Assert.True((int)response.Status < 500, $"{pathFormat}: {(int)response.Status} {response.Raw}");
        if ((int)response.Status >= 400)
        {
            response.AssertProblem(response.Status);
        }
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("0.1.2.3")]
    [InlineData("255.255.255.255")]
    [InlineData("224.0.0.1")]
    [InlineData("239.255.255.250")]
    [InlineData("::")]
    [InlineData("::0")]
    [InlineData("ff02::1")]
    [InlineData("::ffff:0.0.0.0")]
    [InlineData("::ffff:255.255.255.255")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("0177.0.0.1")]
    [InlineData("01.02.03.04")]
    [InlineData("127.000.000.001")]
    [InlineData("127.1")]
    [InlineData("2130706433")]
    [InlineData("[::1]")]
    [InlineData(" 127.0.0.1")]
    [InlineData("127.0.0.1 ")]
    [InlineData("::ffff:01.2.3.4")]
    public async Task Unusable_or_non_canonical_device_addresses_are_400_naming_ip(string ip)
    {
        var response = await Admin.SendJsonAsync(HttpMethod.Post, "devices", new { ip, port = 161, plugin = "snmp" });

        response.AssertProblem(HttpStatusCode.BadRequest, "ip");
    }

    [Theory]
    [InlineData("127.17.250.1", "127.17.250.1")]
    [InlineData("::1", "::1")]
    [InlineData("2001:db8::17", "2001:db8::17")]
    [InlineData("2001:DB8:0:0:0:0:0:18", "2001:db8::18")]
    public async Task Canonical_and_loopback_addresses_stay_allowed(string ip, string stored)
    {
        var device = await Admin.CreateAsync("devices", new { ip, port = 1617, plugin = "snmp" });

        Assert.Equal(stored, device.GetProperty("ip").GetString());
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("255.255.255.255")]
    [InlineData("224.0.0.0/24")]
    [InlineData("010.0.0.1")]
    [InlineData("::")]
    public async Task Unusable_discovery_targets_are_400_naming_target(string target)
    {
        var response = await Admin.SendJsonAsync(HttpMethod.Post, "discovery_profiles",
            new { name = $"hostile-{Guid.NewGuid():N}", target, port = 161, plugin = "snmp" });

        response.AssertProblem(HttpStatusCode.BadRequest, "target");
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("application/jsonx")]
    public async Task A_body_that_is_not_declared_json_is_415(string contentType)
    {
        var json = $$"""{"ip":"{{NextIp()}}","port":161,"plugin":"snmp"}""";

        var response = await Admin.SendRawAsync(HttpMethod.Post, "devices", null, r =>
            r.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(json)) { Headers = { { "Content-Type", contentType } } });

        response.AssertProblem(HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task A_body_without_a_content_type_is_415()
    {
        var json = $$"""{"ip":"{{NextIp()}}","port":161,"plugin":"snmp"}""";

        var response = await Admin.SendRawAsync(HttpMethod.Post, "devices", null, r => r.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(json)));

        response.AssertProblem(HttpStatusCode.UnsupportedMediaType);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON")]
    public async Task Json_content_types_are_accepted(string contentType)
    {
        var json = $$"""{"ip":"{{NextIp()}}","port":161,"plugin":"snmp"}""";

        var response = await Admin.SendRawAsync(HttpMethod.Post, "devices", null, r =>
            r.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(json)) { Headers = { { "Content-Type", contentType } } });

        response.AssertStatus(HttpStatusCode.Created);
    }

    [Theory]
    [InlineData("DELETE", "devices", "GET, POST")]
    [InlineData("PUT", "devices/1", "DELETE, GET, PATCH")]
    [InlineData("POST", "devices/1/metrics", "GET")]
    [InlineData("GET", "discovery_profiles/1/run", "POST")]
    [InlineData("POST", "health", "GET")]
    public async Task An_unsupported_method_on_a_route_is_405_with_allow(string method, string path, string allow)
    {
        var response = await fixture.App.Client.SendRawAsync(new HttpMethod(method), path, null);

        response.AssertProblem(HttpStatusCode.MethodNotAllowed);
        Assert.Equal(allow, string.Join(", ", response.Message.Content.Headers.Allow.Order(StringComparer.Ordinal)));
    }

    [Theory]
    [InlineData("discovery_runs/1.5")]
    [InlineData("devices/1.5")]
    [InlineData("devices/01")]
    [InlineData("nothing.json")]
    [InlineData("devices/1/metrics.csv")]
    [InlineData("a/b/c.d/e")]
    public async Task Paths_with_dots_or_leading_zeros_get_a_404_problem(string path)
    {
        var response = await Admin.GetJsonAsync(path);

        response.AssertProblem(HttpStatusCode.NotFound);
    }
}
