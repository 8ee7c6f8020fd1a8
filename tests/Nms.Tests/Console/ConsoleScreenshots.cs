using Microsoft.Playwright;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Console;

/// <summary>
/// The device page screenshot README shows. Always written beside the other browser evidence;
/// written into docs/ as well when NMS_UPDATE_DOCS_SCREENSHOT=1, so an ordinary test run leaves
/// the checkout clean.
/// </summary>
public static class ConsoleScreenshots
{
    public const string DocsFile = "docs/console-device.png";

    public static async Task SaveDevicePageAsync(IPage page)
    {
        Directory.CreateDirectory(ConsoleBrowser.ArtifactsDirectory);
        var options = new PageScreenshotOptions { FullPage = true, Path = Path.Combine(ConsoleBrowser.ArtifactsDirectory, "console-device.png") };
        await page.ScreenshotAsync(options);
        if (Environment.GetEnvironmentVariable("NMS_UPDATE_DOCS_SCREENSHOT") == "1")
        {
            options.Path = Path.Combine(TestEnvironment.RepositoryRoot, DocsFile);
            await page.ScreenshotAsync(options);
        }
    }
}

/// <summary>Waiting on something the browser did (a request seen), not on time.</summary>
public static class TestAppWaits
{
    public static Task UntilAsync(Func<bool> condition, string what) =>
        TestApp.EventuallyAsync(() => Task.FromResult(condition()), what, TimeSpan.FromSeconds(30));
}
