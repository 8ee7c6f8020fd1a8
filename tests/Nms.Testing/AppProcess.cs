using System.Net.Http;

namespace Nms.Testing;

/// <summary>
/// The local functions host as its own process (<c>dotnet Nms.Functions.LocalHost.dll</c>), settings in its
/// environment, so a test or bench can SIGKILL it and start another, as a crash and a restart do.
/// </summary>
public sealed class AppProcess : DaemonProcess
{
    private AppProcess(string dll, IReadOnlyDictionary<string, string> environment, TextWriter? log)
        : base("dotnet", [dll], environment, Directory.CreateTempSubdirectory("nms-app-run-").FullName, log)
    {
    }

    public static async Task<AppProcess> StartAsync(string localHostDll, Uri baseAddress, IReadOnlyDictionary<string, string> settings, TimeSpan? timeout = null, TextWriter? log = null)
    {
        var environment = new Dictionary<string, string>(settings) { ["NMS_LOCALHOST_URLS"] = baseAddress.GetLeftPart(UriPartial.Authority) };
        var app = new AppProcess(localHostDll, environment, log);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            // Up means the HTTP triggers answer; /api/health says 503 while a dependency is down, which still counts.
            await app.WaitUntilReadyAsync(async ct => (int)(await http.GetAsync(new Uri(baseAddress, "health"), ct)).StatusCode is 200 or 503,
                timeout ?? TimeSpan.FromSeconds(120), CancellationToken.None);
        }
        catch
        {
            app.Dispose();
            throw;
        }

        return app;
    }

    /// <summary>SIGKILL: no shutdown, no drain; what it held comes back when its leases end.</summary>
    public void Kill() => Dispose();
}
