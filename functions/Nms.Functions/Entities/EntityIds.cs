using System.Globalization;
using Nms.Core.Api;

namespace Nms.Functions.Entities;

internal static class EntityIds
{
    /// <summary>A route id that is not a positive integer names nothing: 404.</summary>
    public static long Parse(string? text, string what) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0
            ? id
            : throw ProblemException.NotFound($"No {what} with id '{text}'.");

    public static Guid ParseGuid(string? text, string what) =>
        Guid.TryParse(text, out var id) ? id : throw ProblemException.NotFound($"No {what} with id '{text}'.");
}
