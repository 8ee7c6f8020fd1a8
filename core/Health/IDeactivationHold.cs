using Npgsql;

namespace Nms.Core.Health;

/// <summary>
/// Something that may hold a device's deactivation for failures: a maintenance window with
/// <c>suppress_deactivation</c> (alerting implements it). Asked only when a failure reaches the
/// threshold, inside the health monitor's transaction, with the device row locked.
/// </summary>
public interface IDeactivationHold
{
    /// <summary>Why the device must stay active now (e.g. <c>maintenance window 'patching'</c>), or null.</summary>
    Task<string?> HoldAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long deviceId, DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>No holds: the health monitor on its own, without alerting.</summary>
public sealed class NoDeactivationHold : IDeactivationHold
{
    public static readonly NoDeactivationHold Instance = new();

    public Task<string?> HoldAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long deviceId, DateTimeOffset now, CancellationToken cancellationToken) =>
        Task.FromResult<string?>(null);
}
