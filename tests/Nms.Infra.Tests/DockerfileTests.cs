namespace Nms.Infra.Tests;

/// <summary>The Premium container image cannot be built here (no Docker engine); these read it.</summary>
public sealed class DockerfileTests
{
    private static readonly string Dockerfile = RepoFiles.Read("infra/Dockerfile");

    [Fact]
    public void Image_is_based_on_the_isolated_worker_for_dotnet_10()
    {
        Assert.Contains("ARG BASE_IMAGE=mcr.microsoft.com/azure-functions/dotnet-isolated:4-dotnet-isolated10.0", Dockerfile, StringComparison.Ordinal);
        Assert.Contains("FROM ${BASE_IMAGE}", Dockerfile, StringComparison.Ordinal);
    }

    [Fact]
    public void Image_gives_fping_raw_sockets_and_ships_the_plugins()
    {
        Assert.Contains("setcap cap_net_raw+ep /usr/bin/fping", Dockerfile, StringComparison.Ordinal);
        Assert.Contains("COPY app/ /home/site/wwwroot/", Dockerfile, StringComparison.Ordinal);
        Assert.Contains("chmod 0755 /home/site/wwwroot/plugins/snmp /home/site/wwwroot/plugins/ssh", Dockerfile, StringComparison.Ordinal);
    }
}
