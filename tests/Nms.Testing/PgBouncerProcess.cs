using System.Globalization;
using System.Net.Sockets;

namespace Nms.Testing;

/// <summary>
/// A real PgBouncer (Debian's, 1.18) in transaction pooling in front of a PostgreSQL server, on its own port, as Azure's
/// built-in PgBouncer sits in front of the metrics pool. 1.18 keeps no protocol-level prepared statements across server
/// connections, as Azure's does with <c>max_prepared_statements = 0</c>. Clients log in as anyone; PgBouncer logs in to
/// the server with the given user and password.
/// </summary>
public sealed class PgBouncerProcess : DaemonProcess
{
    private const string Binary = "/usr/sbin/pgbouncer";

    private PgBouncerProcess(string directory, string config, int port, bool asRoot)
        : base(asRoot ? "setpriv" : Binary, asRoot ? ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", Binary, config] : [config], null, directory) => Port = port;

    public int Port { get; }

    /// <param name="serverConnections">Server connections per database: one makes every client share one.</param>
    public static async Task<PgBouncerProcess> StartAsync(string serverHost, int serverPort, string user, string password, int serverConnections, CancellationToken cancellationToken = default)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("the PgBouncer fixture drives Debian's pgbouncer");
        }

        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"{Binary} is missing: ./nms installs Debian's pgbouncer package");
        }

        var port = FreePort.Tcp();
        var directory = Directory.CreateTempSubdirectory("nms-pgbouncer-").FullName;
        File.SetUnixFileMode(directory, (UnixFileMode)Convert.ToInt32("777", 8));
        var config = Path.Combine(directory, "pgbouncer.ini");
        await File.WriteAllTextAsync(config, string.Create(CultureInfo.InvariantCulture, $"""
            [databases]
            * = host={serverHost} port={serverPort} user={user} password={password}

            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = {port}
            unix_socket_dir =
            auth_type = any
            pool_mode = transaction
            default_pool_size = {serverConnections}
            max_client_conn = 200
            ignore_startup_parameters = extra_float_digits
            pidfile = {directory}/pgbouncer.pid
            """), cancellationToken);
        File.SetUnixFileMode(config, (UnixFileMode)Convert.ToInt32("644", 8));
        var bouncer = new PgBouncerProcess(directory, config, port, Environment.UserName == "root");
        try
        {
            await bouncer.WaitUntilReadyAsync(async ct =>
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port, ct).ConfigureAwait(false);
                return true;
            }, TimeSpan.FromSeconds(20), cancellationToken).ConfigureAwait(false);
            return bouncer;
        }
        catch
        {
            bouncer.Dispose();
            throw;
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
