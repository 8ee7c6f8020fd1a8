namespace Nms.Plugins.Snmp.Codec;

public abstract record SnmpCredentials;

public sealed record CommunityCredentials(string Community) : SnmpCredentials
{
    public override string ToString() => "CommunityCredentials";
}

public sealed record UsmCredentials(string User, AuthProtocol Auth, string? AuthPassword, PrivProtocol Priv, string? PrivPassword) : SnmpCredentials
{
    public override string ToString() => $"UsmCredentials {{ {User}, {Auth}, {Priv} }}";
}
