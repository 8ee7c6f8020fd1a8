namespace Nms.Plugins.Sdk;

/// <summary>One protocol's work on one target; the host runs many of these concurrently.</summary>
public interface IPluginHandler
{
    /// <param name="attemptTimeout">The budget for one credential; the token fires when the target's whole budget is spent.</param>
    Task<PluginResult> DiscoverAsync(PluginTarget target, TimeSpan attemptTimeout, CancellationToken cancellationToken);

    Task<PluginResult> PollAsync(PluginTarget target, TimeSpan timeout, CancellationToken cancellationToken);
}

public sealed record PluginHostOptions(string Name, int MaxConcurrency, long MaxRequestBytes = 64L * 1024 * 1024);
