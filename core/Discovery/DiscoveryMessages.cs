namespace Nms.Core.Discovery;

/// <summary>One batch of a discovery run on the <c>discovery</c> queue. Credentials are looked up by the worker, never carried.</summary>
public sealed record DiscoveryBatchMessage(Guid RunId, int BatchNo, long ProfileId, IReadOnlyList<string> Addresses);
