namespace Nms.Core.Polling;

/// <summary>A poll batch on the <c>poll</c> queue: ids and addresses, never secrets.</summary>
public sealed record PollBatchMessage(Guid BatchId, DateTimeOffset ScheduledAt, IReadOnlyList<PollTarget> Devices);

public sealed record PollTarget(long DeviceId, string Ip, int Port, string Plugin, DateTimeOffset DueAt);
