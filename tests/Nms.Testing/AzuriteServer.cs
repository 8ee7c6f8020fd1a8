using System.Net.Sockets;

namespace Nms.Testing;

/// <summary>
/// An Azurite of its own with its data on disk (so queued messages outlive a restart, as they do in Azure Storage),
/// on free ports, for tests and benches that stop and restart the queue service.
/// </summary>
public sealed class AzuriteServer : IDisposable
{
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>Azurite's well-known development account with its queue service at <paramref name="queuePort"/> (listening or not).</summary>
    public static string QueueConnectionString(int queuePort) =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};QueueEndpoint=http://127.0.0.1:{queuePort}/devstoreaccount1;";

    private readonly string location;
    private readonly int blobPort = FreePort.Tcp();
    private readonly int tablePort = FreePort.Tcp();
    private AzuriteProcess? process;

    private AzuriteServer()
    {
        location = Directory.CreateTempSubdirectory("nms-azurite-").FullName;
        QueuePort = FreePort.Tcp();
    }

    public int QueuePort { get; }

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{blobPort}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{QueuePort}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{tablePort}/devstoreaccount1;";

    /// <summary>The Azurite <c>./nms</c> installs: <c>NMS_AZURITE_BIN</c>, else <c>.tools/azurite</c> above the working folder.</summary>
    public static string Executable()
    {
        if (Environment.GetEnvironmentVariable("NMS_AZURITE_BIN") is { Length: > 0 } configured)
        {
            return configured;
        }

        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, ".tools", "azurite", "node_modules", ".bin", "azurite");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("Azurite not found: set NMS_AZURITE_BIN or run through ./nms, which installs it");
    }

    public static async Task<AzuriteServer> StartAsync()
    {
        var server = new AzuriteServer();
        await server.StartAgainAsync();
        return server;
    }

    public bool Running => process is { HasExited: false };

    /// <summary>Stops it with SIGTERM, as a service restart does: Azurite saves its state and exits.</summary>
    public async Task StopAsync()
    {
        if (process is null)
        {
            return;
        }

        await process.TerminateAsync();
        process.Dispose();
        process = null;
    }

    public async Task StartAgainAsync()
    {
        process = new AzuriteProcess(Executable(), ["--silent", "--skipApiVersionCheck", "--loose", "--location", location,
            "--blobHost", "127.0.0.1", "--blobPort", $"{blobPort}", "--queueHost", "127.0.0.1", "--queuePort", $"{QueuePort}",
            "--tableHost", "127.0.0.1", "--tablePort", $"{tablePort}"]);
        await process.WaitForPortAsync(QueuePort);
    }

    public void Dispose()
    {
        process?.Dispose();
        try
        {
            Directory.Delete(location, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class AzuriteProcess(string executable, string[] arguments)
        : DaemonProcess(executable, arguments, null, Directory.CreateTempSubdirectory("nms-azurite-run-").FullName)
    {
        public Task WaitForPortAsync(int port) => WaitUntilReadyAsync(async ct =>
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port, ct);
            return true;
        }, TimeSpan.FromSeconds(180), CancellationToken.None);
    }
}
