using System.Text.RegularExpressions;

namespace Nms.Infra.Tests;

/// <summary>
/// Reads the app setting names a Bicep file sets. Settings live in variables named
/// <c>*Settings</c>: object literals (one key per line, as the Bicep formatter writes them) or
/// <c>toObject(list, id => 'Name__${id}', ...)</c> for one setting per list item. An
/// interpolated part of a name (<c>${...}</c>) becomes the wildcard <c>*</c>.
/// </summary>
internal static partial class BicepAppSettings
{
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Parse(string bicep)
    {
        var lines = bicep.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var blocks = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        for (var i = 0; i < lines.Length; i++)
        {
            var objectStart = ObjectVariable().Match(lines[i]);
            if (objectStart.Success)
            {
                blocks.Add(objectStart.Groups["var"].Value, ReadObjectKeys(lines, i + 1));
                continue;
            }

            var toObject = ToObjectVariable().Match(lines[i]);
            if (toObject.Success)
            {
                blocks.Add(toObject.Groups["var"].Value, [Wildcard(toObject.Groups["name"].Value)]);
            }
        }

        return blocks;
    }

    /// <summary>Names of the <c>*Settings</c> variables passed to <c>union(...)</c> in <paramref name="variable"/>.</summary>
    public static IReadOnlySet<string> UnionMembers(string bicep, string variable)
    {
        var match = Regex.Match(bicep, $@"^var {Regex.Escape(variable)} = union\((?<args>[^\n]*)\)\s*$", RegexOptions.Multiline);
        if (!match.Success)
        {
            return new HashSet<string>(StringComparer.Ordinal);
        }

        return SettingsReference().Matches(match.Groups["args"].Value).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
    }

    public static bool Matches(string pattern, string name) =>
        Regex.IsMatch(name, "^" + Regex.Escape(pattern).Replace(@"\*", "[A-Za-z0-9]+", StringComparison.Ordinal) + "$");

    private static List<string> ReadObjectKeys(string[] lines, int first)
    {
        var keys = new List<string>();
        int? indent = null;
        for (var i = first; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.StartsWith('}'))
            {
                return keys;
            }

            var trimmed = line.TrimStart();
            if (trimmed.Length == 0 || trimmed.StartsWith("//", StringComparison.Ordinal) || trimmed[0] is '}' or ']' or ')')
            {
                continue;
            }

            var lineIndent = line.Length - trimmed.Length;
            indent ??= lineIndent;
            if (lineIndent != indent)
            {
                continue; // inside a nested value
            }

            var key = ObjectKey().Match(trimmed);
            if (!key.Success)
            {
                throw new FormatException($"Line {i + 1}: expected 'Name: value' in a settings object, found '{trimmed}'.");
            }

            keys.Add(Wildcard(key.Groups["quoted"].Success ? key.Groups["quoted"].Value : key.Groups["bare"].Value));
        }

        throw new FormatException($"Settings object starting at line {first} is not closed by a '}}' in column 1.");
    }

    private static string Wildcard(string name) => Interpolation().Replace(name, "*");

    [GeneratedRegex(@"^var (?<var>\w+Settings) = \{\s*$")]
    private static partial Regex ObjectVariable();

    [GeneratedRegex(@"^var (?<var>\w+Settings) = toObject\([^,]+,\s*\w+\s*=>\s*'(?<name>[^']+)'")]
    private static partial Regex ToObjectVariable();

    [GeneratedRegex(@"^(?:'(?<quoted>[^']+)'|(?<bare>[A-Za-z_][A-Za-z0-9_]*))\s*:")]
    private static partial Regex ObjectKey();

    [GeneratedRegex(@"\$\{[^}]*\}")]
    private static partial Regex Interpolation();

    [GeneratedRegex(@"\b\w+Settings\b")]
    private static partial Regex SettingsReference();
}
