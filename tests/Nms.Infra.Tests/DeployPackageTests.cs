using System.IO.Compression;

namespace Nms.Infra.Tests;

/// <summary>
/// deploy.sh --build-only in a scratch copy of the repo, with stand-ins for dotnet publish and
/// plugins/publish.sh: the package must carry the plugins with their executable bit.
/// </summary>
public sealed class DeployPackageTests : IDisposable
{
    private readonly string scratch = Directory.CreateTempSubdirectory("nms-package-test-").FullName;

    public void Dispose() => Directory.Delete(scratch, recursive: true);

    [Fact]
    public async Task Build_only_packages_the_plugins_as_executables_under_plugins()
    {
        if (OperatingSystem.IsWindows() || !File.Exists("/usr/bin/zip"))
        {
            return; // deploy.sh targets Linux/macOS with zip installed
        }

        Directory.CreateDirectory(Path.Combine(scratch, "infra"));
        File.Copy(RepoFiles.PathOf("infra/deploy.sh"), Path.Combine(scratch, "infra/deploy.sh"));
        File.Copy(RepoFiles.PathOf("infra/Dockerfile"), Path.Combine(scratch, "infra/Dockerfile"));
        // The plugins come out without the executable bit: deploy.sh must set it.
        Script("plugins/publish.sh", "mkdir -p \"$1\" && printf x > \"$1/snmp\" && printf x > \"$1/ssh\" && chmod 0644 \"$1/snmp\" \"$1/ssh\"");
        Script("bin/dotnet", "while [ $# -gt 0 ]; do if [ \"$1\" = --output ]; then mkdir -p \"$2\" && printf x > \"$2/Nms.Functions.dll\"; fi; shift; done");

        var result = await BashScript.RunAsync(Path.Combine(scratch, "infra/deploy.sh"), ["--build-only"], $"{Path.Combine(scratch, "bin")}:/usr/bin:/bin");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("nothing deployed", result.Stdout, StringComparison.Ordinal);

        using var package = ZipFile.OpenRead(Path.Combine(scratch, "artifacts/nms-functions.zip"));
        Assert.NotNull(package.GetEntry("Nms.Functions.dll"));
        foreach (var plugin in new[] { "plugins/snmp", "plugins/ssh" })
        {
            var entry = package.GetEntry(plugin);
            Assert.NotNull(entry);
            var mode = (entry.ExternalAttributes >> 16) & 0x1FF;
            Assert.True((mode & 0x49) == 0x49, $"{plugin} is stored with mode {Convert.ToString(mode, 8)}, not executable");
        }

        Assert.True(File.Exists(Path.Combine(scratch, "artifacts/deploy/Dockerfile")));
        Assert.True(File.Exists(Path.Combine(scratch, "artifacts/deploy/app/plugins/ssh")));
    }

    private void Script(string relative, string body) => BashScript.WriteExecutable(Path.Combine(scratch, relative), body);
}
