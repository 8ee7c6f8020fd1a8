using System.Diagnostics;

namespace Nms.Tests.Infrastructure;

/// <summary>
/// An nftables table that drops ICMP echo requests to one loopback /24, so fping sees it as down
/// while everything else still answers. Unique table per instance, always deleted on dispose.
/// </summary>
public sealed class IcmpBlackhole : IDisposable
{
    public IcmpBlackhole()
    {
        Prefix = $"127.{Random.Shared.Next(150, 250)}.{Random.Shared.Next(1, 250)}";
        Table = "nms_test_" + Guid.NewGuid().ToString("N")[..10];
        Nft("add", "table", "ip", Table);
        Nft("add", "chain", "ip", Table, "out", "{", "type", "filter", "hook", "output", "priority", "0", ";", "policy", "accept", ";", "}");
        Nft("add", "rule", "ip", Table, "out", "ip", "daddr", $"{Prefix}.0/24", "icmp", "type", "echo-request", "drop");
    }

    /// <summary>The first three octets of the dropped /24, e.g. <c>127.160.17</c>.</summary>
    public string Prefix { get; }

    public string Table { get; }

    public string Address(int host) => $"{Prefix}.{host}";

    public void Dispose() => Nft("delete", "table", "ip", Table);

    private static void Nft(params string[] arguments)
    {
        var info = new ProcessStartInfo("nft") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"nft {string.Join(' ', arguments)} failed: {error}");
        }
    }
}
