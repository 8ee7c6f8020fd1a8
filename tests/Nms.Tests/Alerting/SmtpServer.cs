using System.Diagnostics;
using System.Net.Sockets;

namespace Nms.Tests.Alerting;

/// <summary>
/// A real SMTP server: Debian's python3-aiosmtpd with its Mailbox handler, on its own loopback
/// port, writing every message it accepts into a maildir the test reads. Killed on dispose.
/// </summary>
public sealed class SmtpServer : IAsyncDisposable
{
    private readonly Process process;
    private readonly string directory;

    private SmtpServer(Process process, string directory, int port)
    {
        this.process = process;
        this.directory = directory;
        Port = port;
    }

    public int Port { get; }

    public string Host => "127.0.0.1";

    /// <summary>Plain SMTP, no AUTH: <c>python3 -m aiosmtpd</c> as it comes.</summary>
    public static Task<SmtpServer> StartAsync() => LaunchAsync(port => ["-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Mailbox", "{maildir}"], new Dictionary<string, string>());

    /// <summary>
    /// TLS (<paramref name="security"/> <c>starttls</c>: STARTTLS required; <c>tls</c>: implicit TLS from the
    /// first byte) with the given certificate and AUTH required for <paramref name="user"/>: a message only
    /// arrives if the client authenticated. The password reaches the server through its environment, never its command line.
    /// </summary>
    public static Task<SmtpServer> StartTlsAsync(string security, string certificatePem, string keyPem, string user, string password)
    {
        var files = Directory.CreateTempSubdirectory("nms-smtp-tls-").FullName;
        File.WriteAllText(Path.Combine(files, "server.py"), TlsServerScript);
        File.WriteAllText(Path.Combine(files, "cert.pem"), certificatePem);
        File.WriteAllText(Path.Combine(files, "key.pem"), keyPem);
        return LaunchAsync(
            port => [Path.Combine(files, "server.py"), security, $"{port}", Path.Combine(files, "cert.pem"), Path.Combine(files, "key.pem"), "{maildir}"],
            new Dictionary<string, string> { ["SMTP_USER"] = user, ["SMTP_PASSWORD"] = password },
            files);
    }

    private const string TlsServerScript = """
        import os, ssl, sys, threading
        from aiosmtpd.controller import Controller
        from aiosmtpd.handlers import Mailbox
        from aiosmtpd.smtp import AuthResult, LoginPassword

        security, port, cert, key, maildir = sys.argv[1:]
        user, password = os.environ["SMTP_USER"].encode(), os.environ["SMTP_PASSWORD"].encode()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)

        def authenticate(server, session, envelope, mechanism, data):
            # handled=False: aiosmtpd answers a failure with 535 itself (its default, handled=True, sends nothing and the client waits).
            return AuthResult(success=isinstance(data, LoginPassword) and data.login == user and data.password == password, handled=False)

        common = dict(hostname="127.0.0.1", port=int(port), authenticator=authenticate, auth_required=True)
        if security == "starttls":
            controller = Controller(Mailbox(maildir), tls_context=context, require_starttls=True, auth_require_tls=True, **common)
        else:
            # Implicit TLS: the whole connection is TLS, which aiosmtpd does not see as STARTTLS, so its "TLS before AUTH" check is off.
            controller = Controller(Mailbox(maildir), ssl_context=context, auth_require_tls=False, **common)
        controller.start()
        threading.Event().wait()
        """;

    private static async Task<SmtpServer> LaunchAsync(Func<int, string[]> arguments, IReadOnlyDictionary<string, string> environment, string? files = null)
    {
        var directory = files ?? Directory.CreateTempSubdirectory("nms-smtp-").FullName;
        var port = FreePort();
        var info = new ProcessStartInfo("/usr/bin/python3") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments(port))
        {
            info.ArgumentList.Add(argument.Replace("{maildir}", Path.Combine(directory, "maildir"), StringComparison.Ordinal));
        }

        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("python3 -m aiosmtpd did not start (apt install python3-aiosmtpd)");
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { errors.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new SmtpServer(process, directory, port);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"aiosmtpd exited with {process.ExitCode}: {string.Join('\n', errors)}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return server;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        await server.DisposeAsync();
        throw new TimeoutException("aiosmtpd did not listen in 20 s");
    }

    /// <summary>Every message received so far, raw (headers and body).</summary>
    public IReadOnlyList<string> Messages()
    {
        var folder = Path.Combine(directory, "maildir", "new");
        return Directory.Exists(folder) ? Directory.GetFiles(folder).OrderBy(File.GetLastWriteTimeUtc).ThenBy(f => f, StringComparer.Ordinal).Select(File.ReadAllText).ToList() : [];
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
        Directory.Delete(directory, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
