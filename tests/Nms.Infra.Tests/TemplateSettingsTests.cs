namespace Nms.Infra.Tests;

public sealed class TemplateSettingsTests
{
    private static readonly string AppTemplate = RepoFiles.Read(SettingsContract.AppTemplatePath);
    private static readonly IReadOnlyList<string> SampleNames = SettingsContract.SampleSettingNames(RepoFiles.Read(SettingsContract.SamplePath));
    private static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> Blocks = BicepAppSettings.Parse(AppTemplate);
    private static readonly IReadOnlyList<string> TemplateNames = Blocks.Values.SelectMany(names => names).ToList();

    [Fact]
    public void Template_sets_every_setting_the_app_reads()
    {
        var missing = SettingsContract.MissingFromTemplate(SampleNames, TemplateNames);

        Assert.True(missing.Count == 0, $"Set these in {SettingsContract.AppTemplatePath} (or document them as local-only in SettingsContract): {string.Join(", ", missing)}");
    }

    [Fact]
    public void Template_sets_nothing_the_app_does_not_read()
    {
        var unknown = SettingsContract.UnknownToTheApp(SampleNames, TemplateNames);

        Assert.True(unknown.Count == 0, $"{SettingsContract.AppTemplatePath} sets settings the app does not read (add them to local.settings.sample.json or to SettingsContract.TemplateOnly with a reason): {string.Join(", ", unknown)}");
    }

    [Fact]
    public void Template_sets_each_setting_once()
    {
        var duplicates = TemplateNames.GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();

        Assert.Empty(duplicates);
    }

    [Fact]
    public void Every_settings_block_is_applied_to_the_site()
    {
        var applied = BicepAppSettings.UnionMembers(AppTemplate, "appSettings");

        Assert.NotEmpty(Blocks);
        Assert.Equal(Blocks.Keys.Order(StringComparer.Ordinal), applied.Order(StringComparer.Ordinal));
        Assert.Contains("for setting in items(appSettings)", AppTemplate, StringComparison.Ordinal);
    }

    [Fact]
    public void Storage_is_reached_with_the_managed_identity_not_an_account_key()
    {
        Assert.DoesNotContain(TemplateNames, name => name == "AzureWebJobsStorage");
        Assert.DoesNotContain("listKeys(", AppTemplate, StringComparison.Ordinal);
        Assert.Contains("allowSharedKeyAccess: false", RepoFiles.Read("infra/modules/storage.bicep"), StringComparison.Ordinal);
        Assert.Contains("AzureWebJobsStorage__credential: 'managedidentity'", AppTemplate, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PGPASSWORD", "nms-db-password")]
    [InlineData("Nms__Auth__BootstrapAdminKey", "nms-bootstrap-admin-key")]
    [InlineData("'Nms__Crypto__Keys__${id}'", "'nms-crypto-key-${id}'")]
    public void Secrets_are_Key_Vault_references(string setting, string secret)
    {
        var line = AppTemplate.Split('\n').Single(l => l.Contains(setting, StringComparison.Ordinal) && l.Contains("keyVaultRef(", StringComparison.Ordinal));

        Assert.Contains(secret, line, StringComparison.Ordinal);
    }

    [Fact]
    public void Flex_Consumption_runs_the_isolated_worker_on_dotnet_10()
    {
        // On Flex, FUNCTIONS_WORKER_RUNTIME is rejected as an app setting: the runtime is set here
        // instead, and the app setting only goes to the Premium plan (premiumSettings).
        Assert.Contains("name: 'dotnet-isolated'\n            version: '10.0'", AppTemplate.Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("FUNCTIONS_WORKER_RUNTIME", Blocks["premiumSettings"]);
        Assert.Contains("isFlex ? {} : premiumSettings", AppTemplate, StringComparison.Ordinal);
    }

    [Fact]
    public void Flex_Consumption_defaults_to_tcp_reachability()
    {
        var main = RepoFiles.Read("infra/main.bicep");

        Assert.Contains("param hostingPlan string = 'flex'", main, StringComparison.Ordinal);
        Assert.Contains("param reachabilityMode string = ''", main, StringComparison.Ordinal);
        Assert.Contains("(isFlex ? 'tcp' : 'icmp')", main, StringComparison.Ordinal);
        Assert.Contains("Nms__Reachability__Mode: reachabilityMode", AppTemplate, StringComparison.Ordinal);
    }

    [Fact]
    public void Plugins_are_found_in_the_deployed_package()
    {
        Assert.Contains("Nms__Plugins__Directory: '${appRoot}/plugins'", AppTemplate, StringComparison.Ordinal);
        Assert.Contains("var appRoot = '/home/site/wwwroot'", AppTemplate, StringComparison.Ordinal);
    }
}
