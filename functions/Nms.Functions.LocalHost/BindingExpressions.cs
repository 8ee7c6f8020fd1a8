using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace Nms.Functions.LocalHost;

/// <summary>Resolves <c>%Setting%</c> in trigger attributes from configuration, as the Functions host does.</summary>
public static partial class BindingExpressions
{
    public static string Resolve(string value, IConfiguration configuration) =>
        Setting().Replace(value, match =>
        {
            var name = match.Groups[1].Value;
            return configuration[name] ?? configuration[name.Replace("__", ":", StringComparison.Ordinal)]
                ?? throw new InvalidOperationException($"App setting '{name}' (used as %{name}% in a trigger) is not set.");
        });

    [GeneratedRegex("%([^%]+)%")]
    private static partial Regex Setting();
}
