namespace Nms.Infra.Tests;

/// <summary>
/// A throw-away copy of infra/ with stand-ins for everything deploy.sh calls out to: dotnet,
/// plugins/publish.sh, the Bicep CLI and (optionally) az, which logs its arguments.
/// </summary>
internal sealed class ScratchRepo : IDisposable
{
    public ScratchRepo()
    {
        Root = Directory.CreateTempSubdirectory("nms-scratch-repo-").FullName;
        CopyDirectory(RepoFiles.PathOf("infra"), Path.Combine(Root, "infra"));
        // The plugins come out without the executable bit: deploy.sh must set it.
        Executable("plugins/publish.sh", "mkdir -p \"$1\" && printf x > \"$1/snmp\" && printf x > \"$1/ssh\" && chmod 0644 \"$1/snmp\" \"$1/ssh\"");
        Executable("bin/dotnet", "while [ $# -gt 0 ]; do if [ \"$1\" = --output ]; then mkdir -p \"$2\" && printf x > \"$2/Nms.Functions.dll\"; fi; shift; done");
        Executable(".tools/nuget/azure.bicep.commandline.linux-x64/0.49.2/tools/bicep", "while [ $# -gt 0 ]; do if [ \"$1\" = --outfile ]; then echo '{}' > \"$2\"; fi; shift; done");
    }

    public string Root { get; }

    public string AzLog => Path.Combine(Root, "az.log");

    /// <summary>Where the fake az copies the <c>@parameters</c> file of the deployment.</summary>
    public string DeployedParameters => Path.Combine(Root, "deployed.parameters.json");

    public string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>An az that logs every call; <paramref name="cases"/> are bash <c>case "$*"</c> arms.</summary>
    public void FakeAz(string cases) => Executable("bin/az", $$"""
        echo "$*" >> '{{AzLog}}'
        for a in "$@"; do case "$a" in @*) cp "${a#@}" '{{DeployedParameters}}';; esac; done
        case "$*" in
        {{cases}}
        esac
        exit 0
        """, shell: "/bin/bash");

    public Task<ScriptResult> DeployAsync(params string[] args) =>
        BashScript.RunAsync(PathOf("infra/deploy.sh"), args, $"{PathOf("bin")}:/usr/bin:/bin");

    public void Dispose() => Directory.Delete(Root, recursive: true);

    private void Executable(string relative, string body, string shell = "/bin/sh") =>
        BashScript.WriteExecutable(PathOf(relative), body, shell);

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, file);
            if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "obj" or "bin"))
            {
                continue;
            }

            var target = Path.Combine(to, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(target, File.GetUnixFileMode(file));
            }
        }
    }
}
