using System.IO.Compression;
using System.Text.Json;

namespace Nms.Infra.Tests;

/// <summary>deploy.sh end to end in a scratch copy of the repo, against a fake az.</summary>
public sealed class DeployScratchRepoTests : IDisposable
{
    private const string LoggedIn = """
          "account show --output none") ;;
          "account show --query user.type --output tsv") echo user ;;
          "ad signed-in-user show"*) echo 11111111-1111-1111-1111-111111111111 ;;
          "group exists"*) echo true ;;
          "group show"*) echo westeurope ;;
          "deployment group show"*functionAppName*) echo func-nms-x ;;
          "deployment group show"*apiUrl*) echo https://func-nms-x.azurewebsites.net/api ;;
          "deployment group show"*keyVaultName*) echo kv-nms-x ;;
        """;

    private readonly ScratchRepo repo = new();

    public void Dispose() => repo.Dispose();

    [Fact]
    public async Task Build_only_packages_the_plugins_as_executables_under_plugins()
    {
        var result = await repo.DeployAsync("--build-only");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("nothing deployed", result.Stdout, StringComparison.Ordinal);
        using var package = ZipFile.OpenRead(repo.PathOf("artifacts/nms-functions.zip"));
        Assert.NotNull(package.GetEntry("Nms.Functions.dll"));
        foreach (var plugin in new[] { "plugins/snmp", "plugins/ssh" })
        {
            var entry = package.GetEntry(plugin);
            Assert.NotNull(entry);
            var mode = (entry.ExternalAttributes >> 16) & 0x1FF;
            Assert.True((mode & 0x49) == 0x49, $"{plugin} is stored with mode {Convert.ToString(mode, 8)}, not executable");
        }

        Assert.True(File.Exists(repo.PathOf("artifacts/deploy/Dockerfile")));
        Assert.True(File.Exists(repo.PathOf("artifacts/deploy/app/plugins/ssh")));
    }

    [Fact]
    public async Task Redeploy_generates_only_the_secrets_that_are_missing()
    {
        repo.FakeAz(LoggedIn + """
              "resource list"*) echo kv-nms-x ;;
              "resource show"*nms-db-password*|"resource show"*nms-bootstrap-admin-key*|"resource show"*nms-crypto-key-key1*) echo found ;;
              "resource show"*) echo "ERROR: (ResourceNotFound) The Resource 'Microsoft.KeyVault/vaults/kv-nms-x/secrets/${12}' was not found." >&2; exit 3 ;;
            """);

        var result = await repo.DeployAsync("--resource-group", "rg-nms", "--crypto-keys", "key1,key2");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("https://func-nms-x.azurewebsites.net/api\n", result.Stdout);
        using var parameters = JsonDocument.Parse(File.ReadAllText(repo.DeployedParameters));
        var values = parameters.RootElement.GetProperty("parameters");
        Assert.Equal("", values.GetProperty("databasePassword").GetProperty("value").GetString());
        Assert.Equal("", values.GetProperty("bootstrapAdminKey").GetProperty("value").GetString());
        var newKeys = values.GetProperty("newCryptoKeys").GetProperty("value").EnumerateObject().ToList();
        var key2 = Assert.Single(newKeys);
        Assert.Equal("key2", key2.Name);
        Assert.Equal(32, Convert.FromBase64String(key2.Value.GetString()!).Length);
        Assert.Equal(["key1", "key2"], values.GetProperty("cryptoKeyIds").GetProperty("value").EnumerateArray().Select(e => e.GetString()));
        var deploy = Assert.Single(File.ReadAllLines(repo.AzLog), l => l.StartsWith("deployment group create", StringComparison.Ordinal));
        Assert.Contains("cryptoActiveKeyId=key2", deploy, StringComparison.Ordinal);
        Assert.Contains(File.ReadAllLines(repo.AzLog), l => l.StartsWith("functionapp deployment source config-zip", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Deploy_stops_when_it_cannot_tell_whether_a_key_exists()
    {
        repo.FakeAz(LoggedIn + """
              "resource list"*) echo kv-nms-x ;;
              "resource show"*) echo "ERROR: (AuthorizationFailed) The client does not have authorization" >&2; exit 1 ;;
            """);

        var result = await repo.DeployAsync("--resource-group", "rg-nms");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("could not check whether Key Vault secret", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(File.ReadAllLines(repo.AzLog), l => l.StartsWith("deployment group create", StringComparison.Ordinal));
    }
}
