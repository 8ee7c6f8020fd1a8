namespace Nms.Plugins.Snmp.Codec;

public abstract record SnmpCredentials;

/// <summary>SNMPv1 (RFC 1157) or SNMPv2c (RFC 1901): a community string.</summary>
public sealed record CommunityCredentials(string Community, CommunityVersion Version = CommunityVersion.V2c) : SnmpCredentials
{
    public override string ToString() => $"CommunityCredentials {{ {Version} }}";
}

/// <summary>The msgVersion on the wire.</summary>
public enum CommunityVersion
{
    V1 = 0,
    V2c = 1,
}

public sealed record UsmCredentials(string User, AuthProtocol Auth, string? AuthPassword, PrivProtocol Priv, string? PrivPassword) : SnmpCredentials
{
    public override string ToString() => $"UsmCredentials {{ {User}, {Auth}, {Priv} }}";
}
