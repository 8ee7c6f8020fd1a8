using System.Buffers.Binary;
using System.Net;
using Nms.Core.Api;

namespace Nms.Core.Discovery;

/// <summary>
/// A parsed discovery target (the seed's expandTarget): comma-separated IPv4 CIDRs, ranges
/// (<c>a.b.c.d-e.f.g.h</c>), last-octet shorthand (<c>a.b.c.d-N</c>) and single addresses.
/// Parsing validates and counts without materialising; <see cref="Addresses"/> yields each
/// address once, in ascending order.
/// </summary>
public sealed class DiscoveryTarget
{
    private readonly IReadOnlyList<(uint First, uint Last)> ranges;

    private DiscoveryTarget(IReadOnlyList<(uint First, uint Last)> ranges)
    {
        this.ranges = ranges;
        Count = ranges.Sum(r => (long)r.Last - r.First + 1);
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
    }

    /// <summary>Parses and validates; throws a 400 <see cref="ProblemException"/> naming <paramref name="field"/>.</summary>
    public static DiscoveryTarget Parse(string? text, long maxAddresses, string field = "target")
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw ProblemException.BadRequest(field, "The target is empty.");
        }

        var parsed = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(part => ParsePart(part, field))
            .ToList();
        if (parsed.Count == 0)
        {
            throw ProblemException.BadRequest(field, "The target is empty.");
        }

        var target = new DiscoveryTarget(Merge(parsed));
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
            return (single, single);
        }

        var first = ParseAddress(part[..dash].Trim(), part, field);
        var end = part[(dash + 1)..].Trim();
        var last = end.Contains('.', StringComparison.Ordinal) ? ParseAddress(end, part, field) : LastOctet(first, end, part, field);
        if (last < first)
        {
            throw ProblemException.BadRequest(field, $"'{part}': the range ends before it starts.");
        }

        return (first, last);
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
        return prefix <= 30 ? (first + 1, last - 1) : (first, last);
    }

    private static uint LastOctet(uint first, string end, string part, string field)
    {
        if (!byte.TryParse(end, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var octet))
        {
            throw ProblemException.BadRequest(field, $"'{part}': '{end}' is neither an address nor a last octet (0-255).");
        }

        return (first & 0xFFFFFF00u) | octet;
    }

    /// <summary>
    /// Strict dotted-quad decimal. <see cref="IPAddress.TryParse(string, out IPAddress)"/> alone would
    /// read <c>010.0.0.1</c> as octal (8.0.0.1) and <c>0x0a.0.0.1</c> as hex, and would accept
    /// <c>10.1</c> as 10.0.0.1: a discovery of the wrong network. Leading zeros are read as decimal.
    /// </summary>
    private static uint ParseAddress(string text, string part, string field)
    {
        if (text.Contains(':', StringComparison.Ordinal))
        {
            throw ProblemException.BadRequest(field, $"'{part}': IPv6 targets are not supported for discovery; add IPv6 devices by hand.");
        }

        var octets = text.Split('.');
        if (octets.Length != 4)
        {
            throw NotAnAddress(text, part, field);
        }

        uint value = 0;
        foreach (var octet in octets)
        {
            if (octet.Length is < 1 or > 3 || !octet.All(char.IsAsciiDigit))
            {
                throw NotAnAddress(text, part, field);
            }

            var number = uint.Parse(octet, System.Globalization.CultureInfo.InvariantCulture);
            if (number > 255)
            {
                throw NotAnAddress(text, part, field);
            }

            value = (value << 8) | number;
        }

        return value;
    }

    private static ProblemException NotAnAddress(string text, string part, string field) =>
        ProblemException.BadRequest(field, $"'{part}': '{text}' is not an IPv4 address (four decimal numbers 0-255, like 192.0.2.10).");

    private static List<(uint First, uint Last)> Merge(List<(uint First, uint Last)> parts)
    {
        var merged = new List<(uint First, uint Last)>();
        foreach (var (first, last) in parts.OrderBy(p => p.First))
        {
            if (merged.Count > 0 && first <= (ulong)merged[^1].Last + 1)
            {
                merged[^1] = (merged[^1].First, Math.Max(merged[^1].Last, last));
            }
            else
            {
                merged.Add((first, last));
            }
        }

        return merged;
    }

    private static IPAddress ToAddress(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }
}
