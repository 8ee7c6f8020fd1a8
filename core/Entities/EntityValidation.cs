using System.Net;
using Nms.Core.Api;
using Nms.Core.Discovery;

namespace Nms.Core.Entities;

/// <summary>Field checks shared by the entity services; each failure is a 400 naming the field.</summary>
internal static class EntityValidation
{
    public const int MinPollIntervalSeconds = 10;
    public const int MaxPollIntervalSeconds = 86_400;
    public const int DefaultPollIntervalSeconds = 60;

    public static string RequiredText(string? value, string field, int maxLength = 200)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw ProblemException.BadRequest(field, $"'{field}' is required.");
        }

        return Text(value, field, maxLength)!;
    }

    /// <summary>Null stays null. PostgreSQL text cannot hold NUL, so it is refused here rather than failing there.</summary>
    public static string? Text(string? value, string field, int maxLength = 200)
    {
        if (value is null)
        {
            return null;
        }

        if (value.Length > maxLength)
        {
            throw ProblemException.BadRequest(field, $"'{field}' is longer than {maxLength} characters.");
        }

        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw ProblemException.BadRequest(field, $"'{field}' contains a NUL character.");
        }

        return value;
    }

    public static string OneOf(string? value, IReadOnlyList<string> allowed, string field)
    {
        if (value is null)
        {
            throw ProblemException.BadRequest(field, $"'{field}' is required: one of {string.Join(", ", allowed)}.");
        }

        return allowed.Contains(value, StringComparer.Ordinal)
            ? value
            : throw ProblemException.BadRequest(field, $"'{field}' must be one of {string.Join(", ", allowed)}.");
    }

    public static void Absent(object? value, string field, string why)
    {
        if (value is not null)
        {
            throw ProblemException.BadRequest(field, $"'{field}' is not allowed {why}.");
        }
    }

    public static int Port(int? value, string field = "port")
    {
        if (value is null)
        {
            throw ProblemException.BadRequest(field, $"'{field}' is required (1-65535).");
        }

        return value is >= 1 and <= 65_535 ? value.Value : throw ProblemException.BadRequest(field, $"'{field}' must be 1-65535.");
    }

    public static int PollInterval(int? value, string field = "poll_interval_seconds")
    {
        var interval = value ?? DefaultPollIntervalSeconds;
        return interval is >= MinPollIntervalSeconds and <= MaxPollIntervalSeconds
            ? interval
            : throw ProblemException.BadRequest(field, $"'{field}' must be {MinPollIntervalSeconds}-{MaxPollIntervalSeconds} seconds.");
    }

    public static string Plugin(string? value, IReadOnlyList<string> installed, string field = "plugin")
    {
        var plugin = RequiredText(value, field, 64);
        return installed.Contains(plugin, StringComparer.Ordinal)
            ? plugin
            : throw ProblemException.BadRequest(field, installed.Count == 0
                ? $"Plugin '{plugin}' is not installed; no plugins are installed."
                : $"Plugin '{plugin}' is not installed; installed: {string.Join(", ", installed)}.");
    }

    /// <summary>A device address written the canonical way (<see cref="DeviceAddress"/>) that a device can have; IPv4-mapped IPv6 is stored as IPv4.</summary>
    public static IPAddress Ip(string? value, string field = "ip")
    {
        var text = RequiredText(value, field, 64);
        var address = DeviceAddress.Parse(text)
            ?? throw ProblemException.BadRequest(field, $"'{text}' is not an IPv4 address in dotted decimal without leading zeros (like 192.0.2.10) or an IPv6 address (like 2001:db8::10; no brackets, zone or prefix).");
        if (DeviceAddress.WhyNotADevice(address) is { } reason)
        {
            throw ProblemException.BadRequest(field, $"'{text}' is {reason}, which cannot be a device's address.");
        }

        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }
}
