using System.Net;
using System.Net.Sockets;

namespace Nms.Core.Discovery;

/// <summary>
/// What a device address may be written as, and which addresses can never be a device. IPv4 is four
/// decimal numbers 0-255 without leading zeros: <see cref="IPAddress.TryParse(string, out IPAddress)"/>
/// alone also reads <c>0x7f.0.0.1</c>, <c>0177.0.0.1</c> (octal), <c>127.1</c> and <c>2130706433</c>,
/// spellings other tools read differently or not at all. IPv6 is RFC 4291 text, without brackets,
/// zone or prefix; it is stored in its canonical (RFC 5952) form.
/// </summary>
public static class DeviceAddress
{
    public enum Ipv4Error
    {
        None,
        Malformed,
        LeadingZero,
    }

    /// <summary>Strict dotted-quad decimal into its 32-bit value.</summary>
    public static Ipv4Error TryParseIpv4(ReadOnlySpan<char> text, out uint value)
    {
        value = 0;
        var octets = 0;
        foreach (var range in text.Split('.'))
        {
            var octet = text[range];
            if (++octets > 4 || octet.Length is < 1 or > 3)
            {
                return Ipv4Error.Malformed;
            }

            var number = 0u;
            foreach (var c in octet)
            {
                if (!char.IsAsciiDigit(c))
                {
                    return Ipv4Error.Malformed;
                }

                number = (number * 10) + (uint)(c - '0');
            }

            if (number > 255)
            {
                return Ipv4Error.Malformed;
            }

            if (octet.Length > 1 && octet[0] == '0')
            {
                return Ipv4Error.LeadingZero;
            }

            value = (value << 8) | number;
        }

        return octets == 4 ? Ipv4Error.None : Ipv4Error.Malformed;
    }

    /// <summary>The address, or null when <paramref name="text"/> is not one written the canonical way.</summary>
    public static IPAddress? Parse(string text)
    {
        if (!text.Contains(':', StringComparison.Ordinal))
        {
            return TryParseIpv4(text, out var value) == Ipv4Error.None ? new IPAddress(IPAddressBytes(value)) : null;
        }

        if (!text.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.'))
        {
            return null; // brackets, zones, prefixes, spaces
        }

        var lastColon = text.LastIndexOf(':');
        if (text.Contains('.', StringComparison.Ordinal) && TryParseIpv4(text.AsSpan(lastColon + 1), out _) != Ipv4Error.None)
        {
            return null;
        }

        return IPAddress.TryParse(text, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6 ? address : null;
    }

    /// <summary>Why no device can have this address (unspecified, broadcast, multicast, link-local), or null.</summary>
    public static string? WhyNotADevice(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return WhyNotADevice(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes()));
        }

        return address.Equals(IPAddress.IPv6Any) ? "the unspecified address"
            : address.IsIPv6Multicast ? "a multicast address"
            : address.IsIPv6LinkLocal ? "a link-local address (it needs an interface)"
            : null;
    }

    public static string? WhyNotADevice(uint ipv4) =>
        ipv4 >> 24 == 0 ? "an unspecified address (0.0.0.0/8, 'this network')"
        : ipv4 == uint.MaxValue ? "the broadcast address"
        : ipv4 >> 28 == 0xE ? "a multicast address (224.0.0.0/4)"
        : null;

    /// <summary>The reason when every address of [first, last] is one no device can have, else null.</summary>
    public static string? WhyNoDeviceIn(uint first, uint last) =>
        last <= 0x00FF_FFFFu ? WhyNotADevice(first)
        : first >= 0xE000_0000u && last <= 0xEFFF_FFFFu ? WhyNotADevice(first)
        : first == uint.MaxValue ? WhyNotADevice(first)
        : null;

    private static byte[] IPAddressBytes(uint value) => [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];
}
