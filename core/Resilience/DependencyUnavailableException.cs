namespace Nms.Core.Resilience;

/// <summary>A consumer held its message as long as it may (<see cref="ResilienceOptions.MaxHoldSeconds"/>) and gives this attempt up.</summary>
public sealed class DependencyUnavailableException(IReadOnlyList<OpenCircuit> open)
    : Exception($"Still down after the longest hold: {string.Join(", ", open.Select(o => o.Dependency))}; this attempt is given up")
{
    public IReadOnlyList<OpenCircuit> Open { get; } = open;
}
