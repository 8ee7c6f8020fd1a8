using System.Diagnostics;

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
    public void Deploy_refuses_in_one_line_when_az_is_missing()
    {
        var result = RunDeploy("--resource-group", "rg-nms");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("", result.Stdout);
        var line = Assert.Single(Lines(result.Stderr));
        Assert.Contains("Azure CLI (az) is not installed", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Deploy_refuses_in_one_line_when_not_logged_in()
    {
        FakeAz("exit 1");

        var result = RunDeploy("--resource-group", "rg-nms");

        Assert.NotEqual(0, result.ExitCode);
        var line = Assert.Single(Lines(result.Stderr));
        Assert.Contains("not logged in to Azure; run 'az login'", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Deploy_refuses_in_one_line_without_a_resource_group()
    {
        FakeAz("exit 0");

        var result = RunDeploy();

        Assert.NotEqual(0, result.ExitCode);
        var line = Assert.Single(Lines(result.Stderr));
        Assert.Contains("missing --resource-group", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Premium_deploy_refuses_without_an_image_or_registry()
    {
        FakeAz("exit 0");

        var result = RunDeploy("--resource-group", "rg-nms", "--plan", "premium");

        Assert.NotEqual(0, result.ExitCode);
        var line = Assert.Single(Lines(result.Stderr));
        Assert.Contains("--image", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Deploy_help_needs_no_azure_cli()
    {
        var result = RunDeploy("--help");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("--resource-group", result.Stdout, StringComparison.Ordinal);
    }

    private void FakeAz(string body)
    {
        var path = Path.Combine(bin, "az");
        File.WriteAllText(path, $"#!/bin/sh\n{body}\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private (int ExitCode, string Stdout, string Stderr) RunDeploy(params string[] args)
    {
        var start = new ProcessStartInfo("/bin/bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(RepoFiles.PathOf("infra/deploy.sh"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["PATH"] = bin;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(30_000), "deploy.sh did not finish in 30 s");
        return (process.ExitCode, stdout.Result, stderr);
    }
}
