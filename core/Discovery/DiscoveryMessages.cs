namespace Nms.Core.Discovery;

/// <summary>
/// One batch of a discovery run on the <c>discovery</c> queue. Credentials are looked up by the worker, never carried.
/// <see cref="TraceParent"/>: the W3C trace context of the request that started the run (optional).
/// </summary>
public sealed record DiscoveryBatchMessage(Guid RunId, int BatchNo, long ProfileId, IReadOnlyList<string> Addresses, string? TraceParent = null);
