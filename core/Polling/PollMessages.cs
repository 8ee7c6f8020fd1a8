namespace Nms.Core.Polling;

/// <summary>
/// A poll batch on the <c>poll</c> queue: device ids and when each was due, nothing more. The poller
/// re-reads address, port, plugin and credential from the database anyway (a device may have changed
/// or gone since the pop), so the message carries no copy of them, and never a secret.
/// </summary>
public sealed record PollBatchMessage(Guid BatchId, DateTimeOffset ScheduledAt, IReadOnlyList<PollTarget> Devices);

public sealed record PollTarget(long DeviceId, DateTimeOffset DueAt);
