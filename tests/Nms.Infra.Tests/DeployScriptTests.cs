namespace Nms.Infra.Tests;

/// <summary>infra/deploy.sh refuses clearly, before building anything, when Azure is out of reach.</summary>
public sealed class DeployScriptTests : IDisposable
{
    private readonly string bin = Directory.CreateTempSubdirectory("nms-deploy-test-").FullName;

    public DeployScriptTests()
    {
        // Only what the script needs before its checks; a real az on the machine stays out of PATH.
        foreach (var tool in new[] { "dirname", "cat" })
        {
            var path = new[] { "/usr/bin", "/bin" }.Select(d => Path.Combine(d, tool)).First(File.Exists);
            File.CreateSymbolicLink(Path.Combine(bin, tool), path);
        }
    }

    public void Dispose() => Directory.Delete(bin, recursive: true);

    [Fact]
    public async Task Deploy_refuses_in_one_line_when_az_is_missing()
    {
        var result = await RunDeploy("--resource-group", "rg-nms");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("", result.Stdout);
        var line = Assert.Single(result.StderrLines);
        Assert.Contains("Azure CLI (az) is not installed", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("exit 1", "not logged in to Azure; run 'az login'", "--resource-group", "rg-nms")]
    [InlineData("exit 0", "missing --resource-group", null, null)]
    [InlineData("exit 0", "--plan premium needs --image REF", "--resource-group", "rg-nms", "--plan", "premium")]
    public async Task Deploy_refuses_in_one_line_when_something_is_missing(string az, string expected, params string?[] args)
    {
        FakeAz(az);

        var result = await RunDeploy(args.OfType<string>().ToArray());

        Assert.NotEqual(0, result.ExitCode);
        var line = Assert.Single(result.StderrLines);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_help_needs_no_azure_cli()
    {
        var result = await RunDeploy("--help");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("--resource-group", result.Stdout, StringComparison.Ordinal);
    }

    private void FakeAz(string body) => BashScript.WriteExecutable(Path.Combine(bin, "az"), body);

    private Task<ScriptResult> RunDeploy(params string[] args) => BashScript.RunAsync(RepoFiles.PathOf("infra/deploy.sh"), args, bin);
}
