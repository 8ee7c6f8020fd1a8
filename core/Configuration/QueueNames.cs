using Microsoft.Extensions.Configuration;

namespace Nms.Core.Configuration;

/// <summary>
/// Queue names are flat app settings because trigger attributes name them as
/// <c>%Setting%</c> binding expressions, which both the Functions host and the local host resolve.
/// </summary>
public sealed record QueueNames(string Discovery, string Poll, string Metrics, string Failures, string Notifications = "notifications")
{
    public const string DiscoverySetting = "NmsDiscoveryQueue";
    public const string PollSetting = "NmsPollQueue";
    public const string MetricsSetting = "NmsMetricsQueue";
    public const string FailuresSetting = "NmsFailuresQueue";
    public const string NotificationsSetting = "NmsNotificationsQueue";

    public IEnumerable<string> All => [Discovery, Poll, Metrics, Failures, Notifications];

    public static QueueNames From(IConfiguration configuration) => new(
        configuration[DiscoverySetting] ?? "discovery",
        configuration[PollSetting] ?? "poll",
        configuration[MetricsSetting] ?? "metrics",
        configuration[FailuresSetting] ?? "failures",
        configuration[NotificationsSetting] ?? "notifications");
}
