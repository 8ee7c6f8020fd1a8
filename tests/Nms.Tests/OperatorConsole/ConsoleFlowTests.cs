using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Nms.Testing;
using Nms.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Nms.Tests.OperatorConsole;

/// <summary>
/// The operator console in headless Chromium against the real app: sign-in, roles, write-only
/// secrets, discovery with live progress, untrusted device text, and a device going down.
/// </summary>
public sealed class ConsoleFlowTests(ConsoleFixture fixture) : IClassFixture<ConsoleFixture>
{
    private static readonly TimeSpan Polls = TimeSpan.FromSeconds(60);

    [Fact]
    public Task Wrong_or_revoked_key_gets_the_sign_in_page_with_a_message() => fixture.Browser.RunAsync(nameof(Wrong_or_revoked_key_gets_the_sign_in_page_with_a_message), async console =>
    {
        var page = console.Page;
        await console.OpenAsync(fixture.App);
        var wrong = "nms_000000000000_" + new string('0', 64);
        console.KeysUsed.Enqueue(wrong);
        await page.GetByLabel("API key").FillAsync(wrong);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("unknown or revoked");
        await Expect(page.GetByRole(AriaRole.Form, new() { Name = "Sign in" })).ToBeVisibleAsync();
        Assert.Null(await page.EvaluateAsync<string?>("() => sessionStorage.getItem('nms.apiKey')"));

        // A key revoked while it is signed in: the next request sends the operator back to sign in.
        var key = await fixture.CreateKeyAsync("reader");
        await console.SignInAsync(fixture.App, key, "reader");
        var id = await KeyIdAsync(key);
        (await fixture.App.Client.DeleteAsync($"api_keys/{id}")).EnsureSuccessStatusCode();
        await console.GoAsync("#/devices");

        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("unknown or revoked");
        await Expect(page.GetByRole(AriaRole.Form, new() { Name = "Sign in" })).ToBeVisibleAsync();
        Assert.DoesNotContain(key, page.Url, StringComparison.Ordinal);
    });

    [Fact]
    public Task Reader_sees_no_write_controls_and_operator_no_admin_ones() => fixture.Browser.RunAsync(nameof(Reader_sees_no_write_controls_and_operator_no_admin_ones), async console =>
    {
        var page = console.Page;
        var device = await fixture.CreateDeviceAsync(5, "reader-visible-5");
        string[] pages = ["#/", "#/devices", $"#/devices/{device}", "#/discovery", "#/credentials"];

        await console.SignInAsync(fixture.App, fixture.ReaderKey, "reader");
        foreach (var hash in pages)
        {
            await console.GoAsync(hash);
            await Expect(page.Locator("main h1").First).ToBeVisibleAsync();
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            await Expect(page.Locator("[data-requires]")).ToHaveCountAsync(0);
            await Expect(page.Locator("main input[type=checkbox]")).ToHaveCountAsync(0);
        }

        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "API keys" })).ToHaveCountAsync(0);

        // The same pages for an operator: device controls, still no admin ones.
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await console.SignInAsync(fixture.App, fixture.OperatorKey, "operator");
        await console.GoAsync("#/devices");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Deactivate" })).ToBeVisibleAsync();
        await Expect(page.Locator("[data-requires=operator]").First).ToBeAttachedAsync();
        foreach (var hash in pages)
        {
            await console.GoAsync(hash);
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            await Expect(page.Locator("[data-requires=admin]")).ToHaveCountAsync(0);
        }
    });

    [Fact]
    public Task Credential_secret_is_nowhere_in_the_page_or_any_api_response() => fixture.Browser.RunAsync(nameof(Credential_secret_is_nowhere_in_the_page_or_any_api_response), async console =>
    {
        var page = console.Page;
        var responses = new ConcurrentQueue<Task<string>>();
        page.Response += (_, response) =>
        {
            if (response.Url.Contains("/api/", StringComparison.Ordinal) && !response.Url.Contains("/api/console/", StringComparison.Ordinal))
            {
                responses.Enqueue(response.TextAsync().ContinueWith(t => t.IsCompletedSuccessfully ? $"{response.Url} {t.Result}" : "", TaskScheduler.Default));
            }
        };
        var secret = "community-" + Guid.NewGuid().ToString("N");
        var name = "ui-secret-" + Guid.NewGuid().ToString("N")[..8];

        await console.SignInAsync(fixture.App, fixture.App.AdminKey, "admin");
        await console.GoAsync("#/credentials");
        await page.GetByRole(AriaRole.Button, new() { Name = "New credential profile" }).ClickAsync();
        var form = page.GetByRole(AriaRole.Form, new() { Name = "New credential profile" });
        await form.GetByLabel("Name").FillAsync(name);
        await form.GetByLabel("Community").FillAsync(secret);
        await form.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        await Expect(page.GetByText($"Saved credential profile {name}.")).ToBeVisibleAsync();
        await Expect(page.Locator("#credential-profiles")).ToContainTextAsync(name);

        // The replace form starts with an empty secret.
        await page.Locator("#credential-profiles tr", new() { HasText = name }).GetByRole(AriaRole.Button, new() { Name = "Replace" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Form, new() { Name = "Replace credential profile" }).GetByLabel("Community")).ToHaveValueAsync("");
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);

        var dom = await page.ContentAsync();
        var values = await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('input, textarea')].map(e => e.value)");
        var storage = await page.EvaluateAsync<string>("() => JSON.stringify({ ...sessionStorage, ...localStorage })");
        var bodies = await Task.WhenAll(responses);
        Assert.DoesNotContain(secret, dom, StringComparison.Ordinal);
        Assert.DoesNotContain(values, v => v.Contains(secret, StringComparison.Ordinal));
        Assert.DoesNotContain(secret, storage, StringComparison.Ordinal);
        Assert.Contains(bodies, b => b.Contains(name, StringComparison.Ordinal));
        Assert.DoesNotContain(bodies, b => b.Contains(secret, StringComparison.Ordinal));
    });

    [Fact]
    public Task Discovery_of_a_28_runs_to_100_percent_and_found_devices_show_untrusted_names_as_text() => fixture.Browser.RunAsync(nameof(Discovery_of_a_28_runs_to_100_percent_and_found_devices_show_untrusted_names_as_text), async console =>
    {
        var page = console.Page;
        var dialogs = 0;
        page.Dialog += async (_, dialog) =>
        {
            Interlocked.Increment(ref dialogs);
            await dialog.DismissAsync();
        };
        var profile = "ui-disco-" + Guid.NewGuid().ToString("N")[..8];

        await console.SignInAsync(fixture.App, fixture.App.AdminKey, "admin");
        await console.GoAsync("#/discovery");
        await page.GetByRole(AriaRole.Button, new() { Name = "New profile" }).ClickAsync();
        var form = page.GetByRole(AriaRole.Form, new() { Name = "New discovery profile" });
        await form.GetByLabel("Name").FillAsync(profile);
        await form.GetByLabel("Target").FillAsync(fixture.Subnet);
        await form.GetByLabel("Port").FillAsync(fixture.AgentPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await form.Locator($"input[name=credential_profile_ids][value='{fixture.CredentialId}']").CheckAsync();
        await form.GetByLabel("Timeout (ms)").FillAsync("1500");
        await form.GetByLabel("Poll interval of found devices (s)").FillAsync("10");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        await page.Locator($"button[data-run-profile='{profile}']").ClickAsync();

        // The run page follows the run live until every batch is done.
        await Expect(page.Locator("[data-run-status]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-run-status=completed]")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Expect(page.Locator("#discovery-run .pct")).ToHaveTextAsync("100%");
        await Expect(page.Locator("[data-count=responded]")).ToHaveTextAsync("3");
        await Expect(page.Locator("[data-count=failed]")).ToHaveTextAsync("11");
        await Expect(page.Locator("[data-list=failure-samples] tbody tr").First).ToBeVisibleAsync();

        // The hostile sysName is a device name in the list and on its page, as text.
        await console.GoAsync("#/devices");
        await page.GetByRole(AriaRole.Searchbox, new() { Name = "Search devices" }).FillAsync(fixture.Host(2));
        var hostile = page.GetByRole(AriaRole.Link, new() { Name = ConsoleFixture.HostileSysName, Exact = true });
        await Expect(hostile).ToBeVisibleAsync();
        await hostile.ClickAsync();
        await Expect(page.Locator("h1.device-name")).ToHaveTextAsync(ConsoleFixture.HostileSysName);
        await Expect(page.Locator("img")).ToHaveCountAsync(0);
        Assert.Equal(0, dialogs);
    });

    [Fact]
    public Task Device_whose_agent_stops_turns_inactive_on_the_overview() => fixture.Browser.RunAsync(nameof(Device_whose_agent_stops_turns_inactive_on_the_overview), async console =>
    {
        var page = console.Page;
        var device = await fixture.CreateDeviceAsync(ConsoleFixture.DoomedHost, "doomed-ap");
        await console.SignInAsync(fixture.App, fixture.ReaderKey, "reader");
        await Expect(page.Locator("#overview-status [data-stat=active] strong")).Not.ToHaveTextAsync("0");
        await Expect(page.Locator($"#overview-deactivations a[href='#/devices/{device}']")).ToHaveCountAsync(0);

        fixture.Agent(ConsoleFixture.DoomedHost).Dispose();

        var row = page.Locator("#overview-deactivations tr", new() { Has = page.Locator($"a[href='#/devices/{device}']") });
        await Expect(row).ToBeVisibleAsync(new() { Timeout = (float)Polls.TotalMilliseconds });
        await Expect(row).ToContainTextAsync("poll");
        await Expect(row.Locator(".badge")).ToHaveTextAsync("inactive");
        await Expect(page.Locator("#overview-status [data-stat=inactive] strong")).Not.ToHaveTextAsync("0");
    });

    [Fact]
    public Task Device_page_draws_charts_from_real_polls_at_a_step_that_fits_the_width_and_zooms_by_dragging() => fixture.Browser.RunAsync(nameof(Device_page_draws_charts_from_real_polls_at_a_step_that_fits_the_width_and_zooms_by_dragging), async console =>
    {
        var page = console.Page;
        var metricRequests = new ConcurrentQueue<Uri>();
        page.Request += (_, request) =>
        {
            if (request.Url.Contains("/metrics?", StringComparison.Ordinal))
            {
                metricRequests.Enqueue(new Uri(request.Url));
            }
        };
        var rates = new ConcurrentQueue<Task<string>>();
        page.Response += (_, response) =>
        {
            if (response.Url.Contains("/metrics?", StringComparison.Ordinal) && response.Url.Contains("fn=rate", StringComparison.Ordinal) && response.Url.Contains("labels", StringComparison.Ordinal))
            {
                rates.Enqueue(response.TextAsync());
            }
        };
        var device = await fixture.CreateDeviceAsync(3, "edge-rtr-3");

        await console.SignInAsync(fixture.App, fixture.ReaderKey, "reader");
        await console.GoAsync($"#/devices/{device}");
        await Expect(page.Locator("h1.device-name")).ToHaveTextAsync("edge-rtr-3");
        await Expect(page.Locator("#device-interfaces tr[data-interface]").First).ToBeVisibleAsync(new() { Timeout = (float)Polls.TotalMilliseconds });
        var uptime = page.Locator("[data-chart=Uptime]");
        await Expect(uptime).Not.ToHaveAttributeAsync("data-points", "0", new() { Timeout = (float)Polls.TotalMilliseconds });
        await Expect(page.Locator("text=Next poll")).ToBeVisibleAsync();

        // Traffic: bits/s from the metrics API's reset-aware rate of the counters real polls wrote.
        var traffic = page.Locator("[data-chart='Traffic (bits/s)']");
        await Expect(traffic).ToHaveAttributeAsync("data-points", new System.Text.RegularExpressions.Regex("^([2-9]|[1-9][0-9]+)$"), new() { Timeout = (float)Polls.TotalMilliseconds });
        var rate = JsonDocument.Parse(await rates.Last());
        Assert.Equal("rate", rate.RootElement.GetProperty("fn").GetString());
        var values = rate.RootElement.GetProperty("series").EnumerateArray().SelectMany(s => s.GetProperty("points").EnumerateArray())
            .Where(p => p.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.Number).Select(p => p.GetProperty("value").GetDouble()).ToList();
        Assert.NotEmpty(values);
        Assert.All(values, v => Assert.InRange(v, 0, 1e10));

        // 24 h: about one point per pixel of the plot, never raw samples.
        metricRequests.Clear();
        await page.Locator("button[data-range='24h']").ClickAsync();
        await Expect(page.Locator("button.range.current[data-range='24h']")).ToBeVisibleAsync();
        await TestAppWaits.UntilAsync(() => metricRequests.Any(u => Query(u, "name") == "sys_uptime_seconds"), "a 24 h chart request");
        var width = await uptime.Locator(".u-over").EvaluateAsync<double>("e => e.getBoundingClientRect().width");
        var step = Seconds(Query(metricRequests.First(u => Query(u, "name") == "sys_uptime_seconds"), "step"));
        Assert.InRange(step, 86_400 / width, 5 * 86_400 / width);
        Assert.Contains(step, TierSteps);

        // 30 d: the 1-hour rollups answer (a step of whole hours), no raw sample reaches the browser.
        var monthAnswers = new ConcurrentQueue<Task<string>>();
        page.Response += (_, response) =>
        {
            var uri = new Uri(response.Url);
            if (uri.AbsolutePath.EndsWith("/metrics", StringComparison.Ordinal) && Query(uri, "name") == "sys_uptime_seconds"
                && (DateTimeOffset.Parse(Query(uri, "to")!, System.Globalization.CultureInfo.InvariantCulture) - DateTimeOffset.Parse(Query(uri, "from")!, System.Globalization.CultureInfo.InvariantCulture)).TotalDays > 29)
            {
                monthAnswers.Enqueue(response.TextAsync());
            }
        };
        await page.Locator("button[data-range='30d']").ClickAsync();
        await Expect(page.Locator("button.range.current[data-range='30d']")).ToBeVisibleAsync();
        await TestAppWaits.UntilAsync(() => monthAnswers.TryPeek(out var first) && first.IsCompleted, "the 30 d uptime answer");
        var month = JsonDocument.Parse(await monthAnswers.First()).RootElement;
        Assert.Equal("1h", month.GetProperty("tier").GetString());
        Assert.Equal(0, month.GetProperty("step_seconds").GetInt32() % 3600);
        await page.Locator("button[data-range='24h']").ClickAsync();
        await Expect(page.Locator("button.range.current[data-range='24h']")).ToBeVisibleAsync();

        // Dragging across a chart asks for the dragged span only, at a finer step.
        metricRequests.Clear();
        await uptime.Locator(".u-over").ScrollIntoViewIfNeededAsync();
        var box = (await uptime.Locator(".u-over").BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(box.X + box.Width * 0.5f, box.Y + box.Height / 2);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(box.X + box.Width * 0.75f, box.Y + box.Height / 2, new() { Steps = 5 });
        await page.Mouse.UpAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Reset zoom" })).ToBeVisibleAsync();
        await TestAppWaits.UntilAsync(() => metricRequests.Any(u => Query(u, "name") == "sys_uptime_seconds"), "a zoomed chart request");
        var zoomed = metricRequests.First(u => Query(u, "name") == "sys_uptime_seconds");
        var span = DateTimeOffset.Parse(Query(zoomed, "to")!, System.Globalization.CultureInfo.InvariantCulture) - DateTimeOffset.Parse(Query(zoomed, "from")!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(span.TotalHours, 5, 7);
        Assert.True(Seconds(Query(zoomed, "step")) < step, "the zoomed step is finer");

        await page.GetByRole(AriaRole.Button, new() { Name = "Reset zoom" }).ClickAsync();
        await page.Locator("button[data-range='1h']").ClickAsync();
        var screenshot = await ConsoleScreenshots.SaveDevicePageAsync(page);
        Assert.True(new FileInfo(screenshot).Length > 10_000, $"the device page screenshot {screenshot} was written");
    });

    /// <summary>The steps the console may ask for: each served from one tier of the store (console/src/charts.ts).</summary>
    private static readonly double[] TierSteps = [10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

    [Fact]
    public Task Operator_adds_a_device_pages_filters_and_bulk_deactivates_reactivates_and_deletes_after_confirming() => fixture.Browser.RunAsync(nameof(Operator_adds_a_device_pages_filters_and_bulk_deactivates_reactivates_and_deletes_after_confirming), async console =>
    {
        var page = console.Page;
        var tag = "bulk-" + Guid.NewGuid().ToString("N")[..8];
        var port = FreePort.Udp();

        // One device through the form, 52 more through the API: 53 match, a page holds 50.
        await console.SignInAsync(fixture.App, fixture.OperatorKey, "operator");
        await console.GoAsync("#/devices");
        await page.GetByText("Add a device").ClickAsync();
        var form = page.GetByRole(AriaRole.Form, new() { Name = "Add a device" });
        await form.GetByLabel("IP address").FillAsync(fixture.Host(10));
        await form.GetByLabel("Port").FillAsync(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await form.GetByLabel("Hostname").FillAsync($"{tag}-00");
        await form.GetByLabel("Poll interval (s)").FillAsync("3600");
        await form.GetByRole(AriaRole.Button, new() { Name = "Add device" }).ClickAsync();
        await Expect(page.GetByText(new System.Text.RegularExpressions.Regex("^Added device \\d+"))).ToBeVisibleAsync();
        for (var n = 1; n <= 52; n++)
        {
            using var added = await fixture.App.Client.PostAsJsonAsync("devices", new { ip = fixture.Host(10), port = port + n, plugin = "snmp", hostname = $"{tag}-{n:D2}", poll_interval_seconds = 3600 });
            Assert.Equal(System.Net.HttpStatusCode.Created, added.StatusCode);
        }

        var rows = page.Locator("#device-list tbody tr");
        await page.GetByRole(AriaRole.Searchbox, new() { Name = "Search devices" }).FillAsync(tag);
        await Expect(rows).ToHaveCountAsync(50);
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await Expect(page.Locator(".page-no")).ToHaveTextAsync("page 2");
        await Expect(rows).ToHaveCountAsync(3);
        await page.GetByRole(AriaRole.Button, new() { Name = "Previous" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(50);
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(3);

        // Bulk deactivate after confirming; the status filter then finds exactly those.
        await page.GetByLabel("Select all on this page").CheckAsync();
        await page.Locator(".bulk").GetByRole(AriaRole.Button, new() { Name = "Deactivate" }).ClickAsync();
        await page.Locator("dialog.confirm [data-confirm=yes]").ClickAsync();
        await Expect(page.GetByText("deactivate: 3 devices done.")).ToBeVisibleAsync();
        await page.Locator(".filters select[name=status]").SelectOptionAsync("inactive");
        await Expect(rows).ToHaveCountAsync(3);
        await Expect(rows.Locator(".badge.inactive")).ToHaveCountAsync(3);
        await page.Locator(".filters select[name=plugin]").SelectOptionAsync("ssh");
        await Expect(page.GetByText("No devices match.")).ToBeVisibleAsync();
        await page.Locator(".filters select[name=plugin]").SelectOptionAsync("");

        await page.GetByLabel("Select all on this page").CheckAsync();
        await page.Locator(".bulk").GetByRole(AriaRole.Button, new() { Name = "Reactivate" }).ClickAsync();
        await page.Locator("dialog.confirm [data-confirm=yes]").ClickAsync();
        await Expect(page.GetByText("reactivate: 3 devices done.")).ToBeVisibleAsync();
        await Expect(page.GetByText("No devices match.")).ToBeVisibleAsync();

        // Delete: cancelling keeps them, confirming removes them.
        await page.Locator(".filters select[name=status]").SelectOptionAsync("active");
        await Expect(rows).ToHaveCountAsync(50);
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(3);
        await page.GetByLabel("Select all on this page").CheckAsync();
        await page.Locator(".bulk").GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await page.Locator("dialog.confirm").GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Expect(page.Locator("dialog.confirm")).ToHaveCountAsync(0);
        await Expect(rows).ToHaveCountAsync(3);
        await page.Locator(".bulk").GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await page.Locator("dialog.confirm [data-confirm=yes]").ClickAsync();
        await Expect(page.GetByText("delete: 3 devices done.")).ToBeVisibleAsync();
        var left = await fixture.App.Client.GetFromJsonAsync<JsonElement>($"devices?q={tag}&limit=100");
        Assert.Equal(50, left.GetProperty("items").GetArrayLength());
    });

    [Fact]
    public Task Admin_creates_a_key_shown_once_with_a_copy_button_and_revokes_it() => fixture.Browser.RunAsync(nameof(Admin_creates_a_key_shown_once_with_a_copy_button_and_revokes_it), async console =>
    {
        var page = console.Page;
        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        var name = "ui-key-" + Guid.NewGuid().ToString("N")[..8];

        await console.SignInAsync(fixture.App, fixture.App.AdminKey, "admin");
        await console.GoAsync("#/keys");
        var form = page.GetByRole(AriaRole.Form, new() { Name = "New API key" });
        await form.GetByLabel("Name").FillAsync(name);
        await form.Locator("select[name=role]").SelectOptionAsync("reader");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        var shown = page.Locator("[data-new-key]");
        await Expect(shown).ToBeVisibleAsync();
        var key = (await shown.TextContentAsync())!;
        console.KeysUsed.Enqueue(key);
        await page.Locator("#new-key").GetByRole(AriaRole.Button, new() { Name = "Copy" }).ClickAsync();
        await Expect(page.Locator("#new-key")).ToContainTextAsync("Copied.");
        Assert.Equal(key, await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));
        using (var reader = fixture.App.CreateClient(key))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, (await reader.GetAsync("me")).StatusCode);
        }

        // Shown once: gone after "Done" and never listed; revoking it (after confirming) refuses it.
        await page.Locator("#new-key").GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();
        await Expect(page.Locator("[data-new-key]")).ToHaveCountAsync(0);
        Assert.DoesNotContain(key, await page.ContentAsync(), StringComparison.Ordinal);
        await page.Locator("#api-keys tr", new() { HasText = name }).GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await page.Locator("dialog.confirm [data-confirm=yes]").ClickAsync();
        await Expect(page.GetByText($"Revoked {name}.")).ToBeVisibleAsync();
        using var revoked = fixture.App.CreateClient(key);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await revoked.GetAsync("me")).StatusCode);
    });

    [Fact]
    public async Task Failing_browser_test_leaves_a_screenshot_and_the_console_log_in_the_artifacts_folder()
    {
        var marker = "console-log-marker-" + Guid.NewGuid().ToString("N");
        var failure = await Assert.ThrowsAsync<Xunit.Sdk.XunitException>(() => fixture.Browser.RunAsync("evidence-check", async console =>
        {
            await console.OpenAsync(fixture.App);
            await console.Page.EvaluateAsync("m => console.error(m)", marker);
            await TestApp.EventuallyAsync(() => Task.FromResult(console.Log.Any(l => l.Contains(marker, StringComparison.Ordinal))), "the console message", TimeSpan.FromSeconds(10));
            throw new InvalidOperationException("deliberate failure");
        }));

        var stem = System.Text.RegularExpressions.Regex.Match(failure.Message, "Browser evidence: (.+)\\.png and").Groups[1].Value;
        Assert.StartsWith(ConsoleBrowser.ArtifactsDirectory, stem, StringComparison.Ordinal);
        Assert.True(new FileInfo(stem + ".png").Length > 1000, "a screenshot was saved");
        var log = await File.ReadAllTextAsync(stem + ".console.log");
        Assert.Contains(marker, log, StringComparison.Ordinal);
        Assert.Contains("deliberate failure", log, StringComparison.Ordinal);
        File.Delete(stem + ".png");
        File.Delete(stem + ".console.log");
    }

    private static string? Query(Uri uri, string name) => System.Web.HttpUtility.ParseQueryString(uri.Query)[name];

    private static double Seconds(string? step) => double.Parse(step!.TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture);

    private async Task<string> KeyIdAsync(string key)
    {
        using var client = fixture.App.CreateClient(key);
        var me = await client.GetFromJsonAsync<System.Text.Json.JsonElement>("me");
        return me.GetProperty("key_id").GetString()!;
    }
}
