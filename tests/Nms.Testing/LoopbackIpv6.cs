using System.Diagnostics;

namespace Nms.Testing;

/// <summary>
/// IPv6 addresses a test adds to lo (needs root), removed again on dispose. Use unique-local addresses (fd15:…) of
/// your own per test so parallel runs do not remove each other's.
/// </summary>
public sealed class LoopbackIpv6 : IAsyncDisposable
{
    private readonly IReadOnlyList<string> _addresses;

    private LoopbackIpv6(IReadOnlyList<string> addresses) => _addresses = addresses;

    public static async Task<LoopbackIpv6> AddAsync(IReadOnlyList<string> addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        var added = new LoopbackIpv6(addresses);
        foreach (var address in addresses)
        {
            // nodad: usable at once, no duplicate address detection to wait for.
            await IpAsync("-6", "addr", "replace", $"{address}/128", "dev", "lo", "nodad").ConfigureAwait(false);
        }

        return added;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var address in _addresses)
        {
            await IpAsync("-6", "addr", "del", $"{address}/128", "dev", "lo").ConfigureAwait(false);
        }
    }

    private static async Task IpAsync(params string[] arguments)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var error = await process.StandardError.ReadToEndAsync().ConfigureAwait(false);
        await process.WaitForExitAsync().ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)}: {error}");
        }
    }
}
