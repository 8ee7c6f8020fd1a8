using System.Text.RegularExpressions;
using Nms.Core.Api;

namespace Nms.Core.Alerting;

/// <summary>A device tag, written <c>key=value</c> on the wire; keys are identifiers, values any short text.</summary>
public readonly partial record struct Tag(string Key, string Value)
{
    public const int MaxTags = 64;
    public const int MaxKeyLength = 64;
    public const int MaxValueLength = 200;

    public override string ToString() => $"{Key}={Value}";

    /// <summary>Parses "key=value" or fails with a 400 naming <paramref name="field"/>.</summary>
    public static Tag Parse(string? text, string field)
    {
        var equals = text?.IndexOf('=', StringComparison.Ordinal) ?? -1;
        if (text is null || equals <= 0)
        {
            throw ProblemException.BadRequest(field, $"'{field}' must be key=value, e.g. site=ams1.");
        }

        var key = text[..equals];
        var value = text[(equals + 1)..];
        if (key.Length > MaxKeyLength || !KeyPattern().IsMatch(key))
        {
            throw ProblemException.BadRequest(field, $"'{field}': the key must be 1-{MaxKeyLength} letters, digits, '_', '-', '.' or '/'.");
        }

        if (value.Length is 0 or > MaxValueLength || value.Contains('\0', StringComparison.Ordinal))
        {
            throw ProblemException.BadRequest(field, $"'{field}': the value must be 1-{MaxValueLength} characters without NUL.");
        }

        return new Tag(key, value);
    }

    /// <summary>A list of tags, each checked and named by its index; duplicates folded.</summary>
    public static IReadOnlyList<Tag> ParseAll(IReadOnlyList<string>? texts, string field)
    {
        if (texts is null)
        {
            return [];
        }

        if (texts.Count > MaxTags)
        {
            throw ProblemException.BadRequest(field, $"'{field}' holds at most {MaxTags} tags.");
        }

        return texts.Select((text, i) => Parse(text, $"{field}[{i}]")).Distinct().ToList();
    }

    public static string[] Texts(IEnumerable<Tag> tags) => tags.Select(t => t.ToString()).ToArray();

    [GeneratedRegex("^[A-Za-z0-9_.\\-/]+$")]
    private static partial Regex KeyPattern();
}
