using System.Buffers.Binary;
using System.Net;
using Nms.Core.Api;

namespace Nms.Core.Discovery;

/// <summary>
/// A parsed discovery target (the seed's expandTarget): comma-separated IPv4 CIDRs, ranges
/// (<c>a.b.c.d-e.f.g.h</c>), last-octet shorthand (<c>a.b.c.d-N</c>) and single addresses, and IPv6
/// addresses, ranges (<c>2001:db8::1-2001:db8::ff</c>) and prefixes from /112 (65,536 addresses) up.
/// Parsing validates and counts without materialising; <see cref="Addresses"/> yields each
/// address once, IPv4 first, each family in ascending order.
/// </summary>
public sealed class DiscoveryTarget
{
    /// <summary>The widest IPv6 prefix that can be swept: a /112 is 65,536 addresses, the default address cap.</summary>
    public const int MinIpv6Prefix = 112;

    private readonly IReadOnlyList<(uint First, uint Last)> ranges;
    private readonly IReadOnlyList<(UInt128 First, UInt128 Last)> ranges6;

    private DiscoveryTarget(IReadOnlyList<(uint First, uint Last)> ranges, IReadOnlyList<(UInt128 First, UInt128 Last)> ranges6)
    {
        this.ranges = ranges;
        this.ranges6 = ranges6;
        var count6 = ranges6.Aggregate(UInt128.Zero, (sum, r) => sum + (r.Last - r.First) + 1);
        Count = ranges.Sum(r => (long)r.Last - r.First + 1) + (count6 > long.MaxValue / 2 ? long.MaxValue / 2 : (long)count6);
    }

    /// <summary>Distinct addresses the target expands to.</summary>
    public long Count { get; }

    public IEnumerable<IPAddress> Addresses()
    {
        foreach (var (first, last) in ranges)
        {
            for (var value = (ulong)first; value <= last; value++)
            {
                yield return ToAddress((uint)value);
            }
        }

        foreach (var (first, last) in ranges6)
        {
            for (var value = first; ; value++)
            {
                yield return ToAddress(value);
                if (value == last)
                {
                    break;
                }
            }
        }
    }

    /// <summary>Parses and validates; throws a 400 <see cref="ProblemException"/> naming <paramref name="field"/>.</summary>
    public static DiscoveryTarget Parse(string? text, long maxAddresses, string field = "target")
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw ProblemException.BadRequest(field, "The target is empty.");
        }

        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            throw ProblemException.BadRequest(field, "The target is empty.");
        }

        var parsed = parts.Where(p => !p.Contains(':', StringComparison.Ordinal)).Select(part => ParsePart(part, field)).ToList();
        var parsed6 = parts.Where(p => p.Contains(':', StringComparison.Ordinal)).Select(part => ParsePart6(part, maxAddresses, field)).ToList();
        var target = new DiscoveryTarget(Merge(parsed), Merge(parsed6));
        if (target.Count > maxAddresses)
        {
            throw new ProblemException(400, "Invalid request",
                $"The target expands to {target.Count} addresses, more than the limit of {maxAddresses}.", field,
                new Dictionary<string, object?> { ["address_count"] = target.Count, ["max_addresses"] = maxAddresses });
        }

        return target;
    }

    private static (uint First, uint Last) ParsePart(string part, string field)
    {
        var slash = part.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            return ParseCidr(part, slash, field);
        }

        var dash = part.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            var single = ParseAddress(part, part, field);
            return Usable(single, single, part, field);
        }

        var first = ParseAddress(part[..dash].Trim(), part, field);
        var end = part[(dash + 1)..].Trim();
        var last = end.Contains('.', StringComparison.Ordinal) ? ParseAddress(end, part, field) : LastOctet(first, end, part, field);
        if (last < first)
        {
            throw ProblemException.BadRequest(field, $"'{part}': the range ends before it starts.");
        }

        return Usable(first, last, part, field);
    }

    /// <summary>A part that holds no address a device can have (0.0.0.0, 255.255.255.255, multicast) is a mistake, not a sweep.</summary>
    private static (uint First, uint Last) Usable(uint first, uint last, string part, string field) =>
        DeviceAddress.WhyNoDeviceIn(first, last) is { } reason
            ? throw ProblemException.BadRequest(field, $"'{part}' holds no address a device can have: {(first == last ? "it is " : "each is ")}{reason}.")
            : (first, last);

    private static (UInt128 First, UInt128 Last) ParsePart6(string part, long maxAddresses, string field)
    {
        var slash = part.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            var network = ParseAddress6(part[..slash].Trim(), part, field);
            if (!int.TryParse(part[(slash + 1)..].Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var prefix) || prefix > 128)
            {
                throw ProblemException.BadRequest(field, $"'{part}': the prefix length must be 0 to 128.");
            }

            if (prefix < MinIpv6Prefix)
            {
                throw ProblemException.BadRequest(field,
                    $"'{part}': an IPv6 /{prefix} holds 2^{128 - prefix} addresses and cannot be swept one by one (a /64 alone would take "
                    + $"58 million years at 10,000 probes a second). IPv6 discovery takes addresses, ranges and prefixes up to a /{MinIpv6Prefix} "
                    + "(65,536 addresses) within the address limit: list the devices' addresses, or add them by hand.");
            }

            var mask = prefix == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - prefix);
            var first = network & mask;
            var last = first | ~mask;
            // The all-zero interface id is the subnet-router anycast address (RFC 4291 2.6.1), not a host.
            return prefix <= 126 ? (first + 1, last) : (first, last);
        }

        var dash = part.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            var single = ParseAddress6(part, part, field);
            return (single, single);
        }

        var from = ParseAddress6(part[..dash].Trim(), part, field);
        var to = ParseAddress6(part[(dash + 1)..].Trim(), part, field);
        if (to < from)
        {
            throw ProblemException.BadRequest(field, $"'{part}': the range ends before it starts.");
        }

        if (to - from >= (UInt128)maxAddresses)
        {
            throw ProblemException.BadRequest(field, $"'{part}': the range holds more than the limit of {maxAddresses} addresses.");
        }

        if (to == UInt128.Zero)
        {
            throw ProblemException.BadRequest(field, $"'{part}' is the unspecified address, which cannot be a device.");
        }

        return (from, to);
    }

    /// <summary>A global or unique-local IPv6 address; zones, link-local and IPv4-mapped forms are refused with the reason.</summary>
    private static UInt128 ParseAddress6(string text, string part, string field)
    {
        if (text.Contains('%', StringComparison.Ordinal) || !IPAddress.TryParse(text, out var address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            throw ProblemException.BadRequest(field, $"'{part}': '{text}' is not an IPv6 address (like 2001:db8::10; no zone).");
        }

        if (address.IsIPv4MappedToIPv6)
        {
            throw ProblemException.BadRequest(field, $"'{part}': write the IPv4-mapped IPv6 address '{text}' as IPv4 ({address.MapToIPv4()}).");
        }

        if (address.IsIPv6LinkLocal || address.IsIPv6Multicast)
        {
            throw ProblemException.BadRequest(field, $"'{part}': '{text}' is a link-local or multicast IPv6 address, which needs an interface and cannot be a device address.");
        }

        if (address.Equals(IPAddress.IPv6Any) && !part.Contains('-', StringComparison.Ordinal) && !part.Contains('/', StringComparison.Ordinal))
        {
            throw ProblemException.BadRequest(field, $"'{part}' is the unspecified address, which cannot be a device.");
        }

        return BinaryPrimitives.ReadUInt128BigEndian(address.GetAddressBytes());
    }

    private static (uint First, uint Last) ParseCidr(string part, int slash, string field)
    {
        var network = ParseAddress(part[..slash].Trim(), part, field);
        if (!int.TryParse(part[(slash + 1)..].Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var prefix) || prefix > 32)
        {
            throw ProblemException.BadRequest(field, $"'{part}': the prefix length must be 0 to 32.");
        }

        var mask = prefix == 0 ? 0u : uint.MaxValue << (32 - prefix);
        var first = network & mask;
        var last = first | ~mask;
        // Network and broadcast addresses are not hosts, except in /31 (RFC 3021) and /32.
        return prefix <= 30 ? Usable(first + 1, last - 1, part, field) : Usable(first, last, part, field);
    }

    private static uint LastOctet(uint first, string end, string part, string field)
    {
        if (!byte.TryParse(end, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var octet))
        {
            throw ProblemException.BadRequest(field, $"'{part}': '{end}' is neither an address nor a last octet (0-255).");
        }

        return (first & 0xFFFFFF00u) | octet;
    }

    /// <summary>Strict dotted-quad decimal (<see cref="DeviceAddress.TryParseIpv4"/>): <c>010.0.0.1</c> is octal to some tools and decimal to others, so it is refused.</summary>
    private static uint ParseAddress(string text, string part, string field) => DeviceAddress.TryParseIpv4(text, out var value) switch
    {
        DeviceAddress.Ipv4Error.None => value,
        DeviceAddress.Ipv4Error.LeadingZero => throw ProblemException.BadRequest(field, $"'{part}': '{text}' has leading zeros, which some tools read as octal: write each number without them (like 192.0.2.10)."),
        _ => throw NotAnAddress(text, part, field),
    };

    private static ProblemException NotAnAddress(string text, string part, string field) =>
        ProblemException.BadRequest(field, $"'{part}': '{text}' is not an IPv4 address (four decimal numbers 0-255, like 192.0.2.10).");

    private static List<(T First, T Last)> Merge<T>(List<(T First, T Last)> parts)
        where T : struct, System.Numerics.IBinaryInteger<T>, System.Numerics.IMinMaxValue<T>
    {
        var merged = new List<(T First, T Last)>();
        foreach (var (first, last) in parts.OrderBy(p => p.First))
        {
            if (merged.Count > 0 && (first <= merged[^1].Last || merged[^1].Last != T.MaxValue && first == merged[^1].Last + T.One))
            {
                merged[^1] = (merged[^1].First, T.Max(merged[^1].Last, last));
            }
            else
            {
                merged.Add((first, last));
            }
        }

        return merged;
    }

    private static IPAddress ToAddress(UInt128 value)
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, value);
        return new IPAddress(bytes);
    }

    private static IPAddress ToAddress(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }
}
