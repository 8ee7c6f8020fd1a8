namespace Nms.Infra.Tests;

/// <summary>The drift check itself: it must be able to fail.</summary>
public sealed class DriftCheckTests
{
    private const string Template = """
        var nmsSettings = {
          NmsPollQueue: queues.poll
          'Nms__Quoted__Name': 'x'
          Nms__Nested__Object: {
            Inner: 1
          }
          // a comment
          Nms__Health__Threshold: string(nms.healthThreshold)
        }

        var keySettings = toObject(ids, id => 'Nms__Crypto__Keys__${id}', id => 'value')
        var appSettings = union(nmsSettings, keySettings)
        """;

    [Fact]
    public void Parser_reads_bare_quoted_and_per_item_setting_names()
    {
        var blocks = BicepAppSettings.Parse(Template);

        Assert.Equal(["NmsPollQueue", "Nms__Quoted__Name", "Nms__Nested__Object", "Nms__Health__Threshold"], blocks["nmsSettings"]);
        Assert.Equal(["Nms__Crypto__Keys__*"], blocks["keySettings"]);
        Assert.Equal(["keySettings", "nmsSettings"], BicepAppSettings.UnionMembers(Template, "appSettings").Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Drift_check_reports_a_setting_the_template_does_not_set()
    {
        var template = BicepAppSettings.Parse(Template).Values.SelectMany(n => n).ToList();

        var missing = SettingsContract.MissingFromTemplate(["NmsPollQueue", "Nms__Crypto__Keys__local1", "Nms__Metrics__RetentionDays"], template);

        Assert.Equal(["Nms__Metrics__RetentionDays"], missing);
    }

    [Fact]
    public void Drift_check_reports_a_setting_the_app_does_not_read()
    {
        var template = BicepAppSettings.Parse(Template).Values.SelectMany(n => n).ToList();

        var unknown = SettingsContract.UnknownToTheApp(["NmsPollQueue", "Nms__Quoted__Name", "Nms__Nested__Object", "Nms__Crypto__Keys__local1"], template);

        Assert.Equal(["Nms__Health__Threshold"], unknown);
    }

    [Fact]
    public void Identity_based_storage_must_be_complete_to_replace_the_connection_string()
    {
        var missing = SettingsContract.MissingFromTemplate(["AzureWebJobsStorage"], ["AzureWebJobsStorage__queueServiceUri"]);

        Assert.Equal(["AzureWebJobsStorage"], missing);
    }

    [Fact]
    public void Parser_rejects_a_settings_object_it_cannot_read()
    {
        Assert.Throws<FormatException>(() => BicepAppSettings.Parse("var badSettings = {\n  ...spread\n}\n"));
    }
}
