using System.Text.Json;

namespace Nms.Infra.Tests;

/// <summary>
/// Which settings of local.settings.sample.json the Azure template sets differently, and which
/// settings the template adds that the sample does not list. Every entry carries its reason;
/// infra/README.md repeats the lists.
/// </summary>
internal static class SettingsContract
{
    public const string SamplePath = "local.settings.sample.json";
    public const string AppTemplatePath = "infra/modules/functionapp.bicep";

    /// <summary>Sample settings that are local-only in that exact form, with what replaces them in Azure.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> LocalOnly = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        // A connection string (Azurite locally). Azure uses the managed identity, no account key:
        // the host reads the service URIs + credential; the app's queue client reads __queueServiceUri.
        ["AzureWebJobsStorage"] =
        [
            "AzureWebJobsStorage__blobServiceUri",
            "AzureWebJobsStorage__queueServiceUri",
            "AzureWebJobsStorage__tableServiceUri",
            "AzureWebJobsStorage__credential",
            "AzureWebJobsStorage__clientId",
        ],
    };

    /// <summary>Settings the template sets that the app code does not read itself.</summary>
    public static readonly IReadOnlyDictionary<string, string> TemplateOnly = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["AzureWebJobsStorage__blobServiceUri"] = "identity-based AzureWebJobsStorage (replaces the connection string)",
        ["AzureWebJobsStorage__queueServiceUri"] = "identity-based AzureWebJobsStorage; also read by StorageQueues",
        ["AzureWebJobsStorage__tableServiceUri"] = "identity-based AzureWebJobsStorage",
        ["AzureWebJobsStorage__credential"] = "identity-based AzureWebJobsStorage: use the managed identity",
        ["AzureWebJobsStorage__clientId"] = "identity-based AzureWebJobsStorage: which user-assigned identity",
        ["AZURE_CLIENT_ID"] = "DefaultAzureCredential (StorageQueues) picks the user-assigned identity from it",
        ["PGPASSWORD"] = "Npgsql reads the database password from it (a Key Vault reference) when the connection string has none",
        ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = "Functions host telemetry, and the app's own (NmsTelemetry: the Nms meter, traces, logs); unset locally",
        ["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] = "Functions host and app telemetry with Microsoft Entra auth (local auth is off)",
        ["FUNCTIONS_EXTENSION_VERSION"] = "Premium container: Functions host version (Flex sets it through functionAppConfig)",
        ["WEBSITES_ENABLE_APP_SERVICE_STORAGE"] = "Premium container: do not mount /home from shared storage",
    };

    public static IReadOnlyList<string> SampleSettingNames(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("Values").EnumerateObject().Select(p => p.Name).ToList();
    }

    /// <summary>Sample settings no template setting name matches (local-only ones count as set by their replacements).</summary>
    public static IReadOnlyList<string> MissingFromTemplate(IEnumerable<string> sampleNames, IReadOnlyCollection<string> templatePatterns) =>
        sampleNames
            .Where(name => LocalOnly.TryGetValue(name, out var replacements)
                ? !replacements.All(r => templatePatterns.Contains(r, StringComparer.Ordinal))
                : !templatePatterns.Any(pattern => BicepAppSettings.Matches(pattern, name)))
            .ToList();

    /// <summary>Template settings that match no sample setting and are not on the template-only list.</summary>
    public static IReadOnlyList<string> UnknownToTheApp(IReadOnlyCollection<string> sampleNames, IEnumerable<string> templatePatterns) =>
        templatePatterns
            .Where(pattern => !TemplateOnly.ContainsKey(pattern) && !sampleNames.Any(name => BicepAppSettings.Matches(pattern, name)))
            .ToList();
}
