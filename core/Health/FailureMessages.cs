namespace Nms.Core.Health;

/// <summary>The seed's EventDeviceFailure on the <c>failures</c> queue. EventId makes the consumer idempotent.</summary>
public sealed record FailureEvent(Guid EventId, long DeviceId, string Reason, string? Error, DateTimeOffset OccurredAt)
{
    public const string PingReason = "ping";
    public const string PollReason = "poll";
}
