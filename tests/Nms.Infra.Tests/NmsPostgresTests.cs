namespace Nms.Infra.Tests;

/// <summary>
/// <c>./nms start</c>'s PostgreSQL from a checkout under a directory the <c>postgres</c> user cannot
/// enter (a mode-700 home such as /root): the real initdb, pg_ctl and psql, run by the script's own functions.
/// </summary>
public sealed class NmsPostgresTests : IDisposable
{
    private readonly string home = Directory.CreateTempSubdirectory("nms-home-700-").FullName;

    public void Dispose() => Directory.Delete(home, recursive: true);

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Cluster_of_a_checkout_postgres_cannot_enter_starts_answers_and_stops()
    {
        File.SetUnixFileMode(home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var checkout = Path.Combine(home, "repo");
        Directory.CreateDirectory(checkout);
        File.Copy(RepoFiles.PathOf("nms"), Path.Combine(checkout, "nms"));
        var script = Path.Combine(home, "start-stop.sh");
        // The script's own functions, as cmd_start and cmd_stop call them; run from inside the checkout.
        File.WriteAllText(script, $$"""
            set -euo pipefail
            cd '{{checkout}}'
            unset NMS_HOME
            source ./nms help >/dev/null
            data="$(pg_data_dir)"
            start_postgres "$data" {{FreePort()}}
            answer="$("$(pg_bin)/psql" -h 127.0.0.1 -p "$(cat "$data/postmaster.pid" | sed -n 4p)" -U nms -d nms -qAt -c 'SELECT 41 + 1')"
            stop_postgres "$data"
            echo "$answer $data"
            """);

        var result = await BashScript.RunAsync(script, [], "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");

        Assert.True(result.ExitCode == 0, result.Stderr);
        var (answer, data) = (result.Stdout.Split(' ', 2)[0], result.Stdout.Split(' ', 2)[^1].Trim());
        try
        {
            Assert.Equal("42", answer);
            Assert.DoesNotContain("Permission denied", result.Stderr, StringComparison.Ordinal);
            if (Environment.UserName == "root")
            {
                Assert.StartsWith("/var/lib/nms/pg-", data, StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal(Path.Combine(checkout, ".nms", "pg"), data);
            }

            Assert.True(File.Exists(Path.Combine(data, "PG_VERSION")), $"no cluster in {data}");
            Assert.False(File.Exists(Path.Combine(data, "postmaster.pid")), "the cluster was not stopped");
        }
        finally
        {
            if (data.StartsWith("/var/lib/nms/pg-", StringComparison.Ordinal))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
