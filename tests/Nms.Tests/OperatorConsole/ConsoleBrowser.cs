using System.Collections.Concurrent;
using Microsoft.Playwright;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.OperatorConsole;

/// <summary>
/// Debian's headless Chromium driven by Playwright's own node driver (inside the NuGet package):
/// no browser download, ever. One browser per fixture; each test gets a fresh context (its own
/// sessionStorage) and, when it fails, leaves a screenshot and the page's console log in
/// <see cref="ArtifactsDirectory"/>.
/// </summary>
public sealed class ConsoleBrowser : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private readonly IPlaywright playwright;
    private readonly IBrowser browser;

    private ConsoleBrowser(IPlaywright playwright, IBrowser browser)
    {
        this.playwright = playwright;
        this.browser = browser;
    }

    /// <summary>Where failed tests leave their evidence: NMS_TEST_ARTIFACTS (./nms test sets and prints it).</summary>
    public static string ArtifactsDirectory { get; } =
        Environment.GetEnvironmentVariable("NMS_TEST_ARTIFACTS") is { Length: > 0 } path ? path : Path.Combine(Path.GetTempPath(), "nms-test-artifacts");

    public static async Task<ConsoleBrowser> LaunchAsync()
    {
        // The driver must never try to fetch a browser of its own: there is none to fetch here.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: ./nms test installs Debian's chromium package.");
        }

        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // Root cannot use Chromium's sandbox; the pages are our own, on loopback.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
        return new ConsoleBrowser(playwright, browser);
    }

    /// <summary>Runs <paramref name="test"/> on a fresh page; on failure saves a screenshot and the console log, then rethrows.</summary>
    public async Task RunAsync(string testName, Func<ConsolePage, Task> test)
    {
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        var log = new ConcurrentQueue<string>();
        page.Console += (_, message) => log.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {message.Type}: {message.Text}");
        page.PageError += (_, error) => log.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} pageerror: {error}");
        page.RequestFailed += (_, request) => log.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} requestfailed: {request.Method} {request.Url} {request.Failure}");
        var urls = new ConcurrentQueue<string>();
        page.Request += (_, request) =>
        {
            urls.Enqueue(request.Url);
            if (request.Headers.TryGetValue("referer", out var referer))
            {
                urls.Enqueue(referer);
            }
        };
        var consolePage = new ConsolePage(page, log);
        try
        {
            await test(consolePage);
            NeverInAUrl(consolePage.KeysUsed, urls.Append(page.Url));
        }
        catch (Exception failure)
        {
            var saved = await SaveEvidenceAsync(testName, page, log, failure);
            throw new Xunit.Sdk.XunitException($"{failure.Message}\nBrowser evidence: {saved}.png and {saved}.console.log\n{failure}");
        }
    }

    /// <summary>Every test checks this: no key it signed in with was in a request URL, a Referer or the page's address.</summary>
    private static void NeverInAUrl(IEnumerable<string> keys, IEnumerable<string> urls)
    {
        var all = urls.ToList();
        foreach (var key in keys)
        {
            var leaked = all.FirstOrDefault(u => u.Contains(key, StringComparison.Ordinal) || u.Contains(Uri.EscapeDataString(key), StringComparison.Ordinal));
            Assert.True(leaked is null, $"the API key was in a URL: {leaked}");
        }
    }

    private static async Task<string> SaveEvidenceAsync(string testName, IPage page, IEnumerable<string> log, Exception failure)
    {
        Directory.CreateDirectory(ArtifactsDirectory);
        var stem = Path.Combine(ArtifactsDirectory, $"{testName}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        try
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = stem + ".png", FullPage = true });
        }
        catch (PlaywrightException ex)
        {
            log = log.Append($"screenshot failed: {ex.Message}");
        }

        await File.WriteAllLinesAsync(stem + ".console.log", log.Append($"url: {page.Url}").Append($"failure: {failure}"));
        return stem;
    }

    public async ValueTask DisposeAsync()
    {
        await browser.DisposeAsync();
        playwright.Dispose();
    }
}

/// <summary>A page of the console with the steps the tests share.</summary>
public sealed class ConsolePage(IPage page, ConcurrentQueue<string> log)
{
    public IPage Page { get; } = page;

    public IReadOnlyCollection<string> Log => log;

    /// <summary>The keys this page signed in with (none of them may ever be in a URL).</summary>
    public ConcurrentQueue<string> KeysUsed { get; } = new();

    public async Task OpenAsync(TestApp app, string hash = "")
    {
        await Page.GotoAsync(new Uri(app.BaseAddress, "console/").ToString() + hash);
    }

    /// <summary>Signs in through the form and waits for the signed-in header.</summary>
    public async Task SignInAsync(TestApp app, string key, string expectedRole)
    {
        KeysUsed.Enqueue(key);
        await OpenAsync(app);
        await Page.GetByLabel("API key").FillAsync(key);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(Page.Locator($"header .who[data-role='{expectedRole}']")).ToBeVisibleAsync();
    }

    public async Task GoAsync(string hash)
    {
        await Page.EvaluateAsync("hash => { location.hash = hash; }", hash);
    }
}
