using System.Diagnostics;

namespace Nms.Core.Observability;

/// <summary>The app's <see cref="ActivitySource"/>: one span per consumer invocation, tagged with its batch id.</summary>
public static class NmsActivities
{
    public const string SourceName = "Nms";

    public static readonly ActivitySource Source = new(SourceName);
}
