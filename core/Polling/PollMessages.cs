namespace Nms.Core.Polling;

/// <summary>
/// A poll batch on the <c>poll</c> queue: device ids and when each was due, nothing more. The poller
/// re-reads address, port, plugin and credential from the database anyway (a device may have changed
/// or gone since the pop), so the message carries no copy of them, and never a secret.
/// <see cref="TraceParent"/> is the W3C trace context of the scheduler's span (absent in messages from before it, and
/// when no one listens): the poller's span is its child, so one poll is one trace from scheduler to writer.
/// </summary>
public sealed record PollBatchMessage(Guid BatchId, DateTimeOffset ScheduledAt, IReadOnlyList<PollTarget> Devices, string? TraceParent = null);

public sealed record PollTarget(long DeviceId, DateTimeOffset DueAt);
