using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Nms.Functions.OperatorConsole;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.OperatorConsole;

/// <summary>
/// What the console adds to the app, over real HTTP: its static files with their headers and size
/// budget, and the three reads it needs (who am I, runs of every profile, recent transitions).
/// </summary>
public sealed class ConsoleApiTests : IAsyncLifetime
{
    private TestApp app = null!;

    public async Task InitializeAsync() => app = await TestApp.StartAsync();

    public async Task DisposeAsync() => await app.DisposeAsync();

    [Fact]
    public async Task Console_is_served_anonymously_with_a_csp_that_allows_no_inline_script()
    {
        using var response = await app.Anonymous.GetAsync("console/");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        var csp = string.Join(' ', response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.DoesNotMatch(new Regex("<script(?![^>]*\\ssrc=)", RegexOptions.IgnoreCase), html);
        Assert.DoesNotMatch(new Regex("\\son[a-z]+=|style=", RegexOptions.IgnoreCase), html);
    }

    [Fact]
    public async Task Console_without_a_slash_redirects_and_unknown_files_are_404()
    {
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = app.BaseAddress };

        using var bare = await noRedirect.GetAsync("console");
        using var missing = await noRedirect.GetAsync("console/nope.js");
        using var traversal = await noRedirect.GetAsync("console/%2e%2e%2fhost.json");

        Assert.Equal(HttpStatusCode.Redirect, bare.StatusCode);
        Assert.Equal("/api/console/", bare.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, traversal.StatusCode);
    }

    [Fact]
    public async Task Unchanged_files_answer_304_to_their_etag()
    {
        using var first = await app.Anonymous.GetAsync("console/app.js");
        using var again = new HttpRequestMessage(HttpMethod.Get, "console/app.js");
        again.Headers.IfNoneMatch.Add(first.Headers.ETag!);

        using var second = await app.Anonymous.SendAsync(again);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
    }

    /// <summary>The issue's budget: all JavaScript and CSS the first page loads, gzipped, at most 150 KB.</summary>
    [Fact]
    public async Task First_page_javascript_and_css_stay_under_150_kb_gzipped()
    {
        var html = await app.Anonymous.GetStringAsync("console/");
        var assets = Regex.Matches(html, "(?:src|href)=\"\\./([^\"]+\\.(?:js|css))\"").Select(m => m.Groups[1].Value).ToList();

        long gzipped = 0;
        foreach (var asset in assets)
        {
            var bytes = await app.Anonymous.GetByteArrayAsync("console/" + asset);
            using var buffer = new MemoryStream();
            await using (var gzip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true))
            {
                await gzip.WriteAsync(bytes);
            }

            gzipped += buffer.Length;
        }

        Assert.Equal(["app.css", "app.js"], assets.Order());
        Assert.InRange(gzipped, 1, 150 * 1024);
    }

    [Fact]
    public async Task Me_names_the_role_of_the_key_and_never_the_key()
    {
        using var created = await app.Client.PostAsJsonAsync("api_keys", new { name = "console-reader", role = "reader" });
        var key = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        using var reader = app.CreateClient(key);

        var me = await reader.GetStringAsync("me");
        var admin = await app.Client.GetFromJsonAsync<JsonElement>("me");

        Assert.Equal("reader", JsonDocument.Parse(me).RootElement.GetProperty("role").GetString());
        Assert.Equal("console-reader", JsonDocument.Parse(me).RootElement.GetProperty("name").GetString());
        Assert.DoesNotContain(key, me, StringComparison.Ordinal);
        Assert.Equal("admin", admin.GetProperty("role").GetString());
    }

    [Fact]
    public async Task Transitions_list_manual_deactivations_of_the_window_for_one_device_or_all()
    {
        var db = app.Database.DataSource;
        var manual = await db.AddDeviceAsync("127.80.0.1", 161, "snmp");
        var other = await db.AddDeviceAsync("127.80.0.2", 161, "snmp");
        var old = await db.AddDeviceAsync("127.80.0.3", 161, "snmp");
        using (var patch = await app.Client.PatchAsJsonAsync($"devices/{manual}", new { status = "inactive" }))
        {
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        }

        await db.DeactivateByOperatorAsync(old, now: DateTimeOffset.UtcNow.AddDays(-3));

        var all = await app.Client.GetFromJsonAsync<JsonElement>("device_health/transitions");
        var mine = await app.Client.GetFromJsonAsync<JsonElement>($"device_health/transitions?device_id={other}");
        var week = await app.Client.GetFromJsonAsync<JsonElement>($"device_health/transitions?since={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddDays(-7).ToString("O"))}");
        using var bad = await app.Client.GetAsync("device_health/transitions?since=yesterday");

        var item = Assert.Single(all.GetProperty("items").EnumerateArray());
        Assert.Equal(manual, item.GetProperty("device_id").GetInt64());
        Assert.Equal("deactivated", item.GetProperty("kind").GetString());
        Assert.Equal("manual", item.GetProperty("reason").GetString());
        Assert.Equal("inactive", item.GetProperty("status").GetString());
        Assert.Empty(mine.GetProperty("items").EnumerateArray());
        Assert.Equal([manual, old], week.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("device_id").GetInt64()));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("since", (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
    }

    [Fact]
    public async Task Discovery_runs_of_every_profile_can_be_narrowed_to_the_unfinished()
    {
        var all = await app.Client.GetFromJsonAsync<JsonElement>("discovery_runs");
        var unfinished = await app.Client.GetFromJsonAsync<JsonElement>("discovery_runs?in_progress=true&limit=5");
        using var bad = await app.Client.GetAsync("discovery_runs?in_progress=maybe");

        Assert.Equal(JsonValueKind.Array, all.GetProperty("items").ValueKind);
        Assert.Equal(JsonValueKind.Array, unfinished.GetProperty("items").ValueKind);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("in_progress", (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
    }
}
