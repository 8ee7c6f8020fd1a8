namespace Nms.Core.Resilience;

/// <summary>
/// Marks the code running inside one consumer invocation, so a queue send there holds through an outage of the
/// queue service (<see cref="HoldingQueueSender"/>) while the same send from an HTTP request or a timer fails fast
/// as before (the API answers, the scheduler gives the deadlines back).
/// </summary>
public sealed class ConsumerScope : IDisposable
{
    private static readonly AsyncLocal<ConsumerScope?> Ambient = new();
    private readonly ConsumerScope? outer;

    private ConsumerScope(DateTimeOffset deadline)
    {
        Deadline = deadline;
        outer = Ambient.Value;
        Ambient.Value = this;
    }

    public static ConsumerScope? Current => Ambient.Value;

    /// <summary>When the invocation stops holding and gives its attempt up.</summary>
    public DateTimeOffset Deadline { get; }

    public static ConsumerScope Enter(DateTimeOffset deadline) => new(deadline);

    public void Dispose() => Ambient.Value = outer;
}
