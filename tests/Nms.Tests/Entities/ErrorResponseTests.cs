using System.Net;

namespace Nms.Tests.Entities;

public sealed class ErrorResponseTests(EntityApp fixture) : IClassFixture<EntityApp>
{
    [Theory]
    [InlineData("credential_profiles")]
    [InlineData("discovery_profiles")]
    [InlineData("devices")]
    [InlineData("api_keys")]
    public async Task Oversized_body_is_413(string collection)
    {
        var huge = $$"""{"name":"{{new string('x', 1_100_000)}}"}""";

        var response = await fixture.Admin.SendRawAsync(HttpMethod.Post, collection, huge);

        response.AssertProblem(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Oversized_chunked_body_is_413()
    {
        var huge = $$"""{"name":"{{new string('x', 1_100_000)}}"}""";

        var response = await fixture.Admin.SendRawAsync(HttpMethod.Post, "devices", huge, r => r.Headers.TransferEncodingChunked = true);

        response.AssertProblem(HttpStatusCode.RequestEntityTooLarge);
    }

    [Theory]
    [InlineData("POST", "devices", "")]
    [InlineData("POST", "devices", "null")]
    [InlineData("POST", "devices", "not json")]
    [InlineData("PATCH", "devices/1", "\"text\"")]
    [InlineData("POST", "credential_profiles", "{\"name\":[]}")]
    [InlineData("POST", "discovery_profiles", "{\"port\":{}}")]
    public async Task Malformed_bodies_are_400_problems_not_500(string method, string path, string body)
    {
        var response = await fixture.Admin.SendRawAsync(new HttpMethod(method), path, body);

        response.AssertProblem(HttpStatusCode.BadRequest);
        Assert.NotNull(response.Field);
    }

    [Fact]
    public async Task Unknown_routes_are_404_problems()
    {
        (await fixture.Admin.GetJsonAsync("devices/1/nothing")).AssertProblem(HttpStatusCode.NotFound);
    }
}
