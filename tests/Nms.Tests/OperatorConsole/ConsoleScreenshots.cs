using Microsoft.Playwright;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.OperatorConsole;

/// <summary>
/// The device page screenshot README shows, written by every test run to
/// <c>$NMS_TEST_ARTIFACTS/console-device.png</c> (./nms test prints the path; the newest run's
/// folder is also <c>.nms/test-artifacts/latest</c>). <c>./nms screenshot</c> runs that one test
/// with NMS_UPDATE_DOCS_SCREENSHOT=1, which writes docs/console-device.png too, so an ordinary
/// test run leaves the checkout clean.
/// </summary>
public static class ConsoleScreenshots
{
    public const string DocsFile = "docs/console-device.png";

    public const string ArtifactFile = "console-device.png";

    public static async Task<string> SaveDevicePageAsync(IPage page)
    {
        Directory.CreateDirectory(ConsoleBrowser.ArtifactsDirectory);
        var path = Path.Combine(ConsoleBrowser.ArtifactsDirectory, ArtifactFile);
        var options = new PageScreenshotOptions { FullPage = true, Path = path };
        await page.ScreenshotAsync(options);
        if (Environment.GetEnvironmentVariable("NMS_UPDATE_DOCS_SCREENSHOT") == "1")
        {
            File.Copy(path, Path.Combine(TestEnvironment.RepositoryRoot, DocsFile), overwrite: true);
        }

        return path;
    }
}

/// <summary>Waiting on something the browser did (a request seen), not on time.</summary>
public static class TestAppWaits
{
    public static Task UntilAsync(Func<bool> condition, string what) =>
        TestApp.EventuallyAsync(() => Task.FromResult(condition()), what, TimeSpan.FromSeconds(30));
}
