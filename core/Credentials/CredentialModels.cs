using System.Text.Json.Serialization;

namespace Nms.Core.Credentials;

[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record CredentialProfileRequest(
    string? Name = null,
    string? Protocol = null,
    string? Community = null,
    string? User = null,
    string? AuthProtocol = null,
    string? AuthKey = null,
    string? PrivProtocol = null,
    string? PrivKey = null,
    string? Password = null,
    string? PrivateKey = null,
    string? PrivateKeyPassphrase = null)
{
    public override string ToString() => $"CredentialProfileRequest {{ Name = {Name}, Protocol = {Protocol} }}";
}

/// <summary>What the API shows of a credential profile: never a secret, only the key id it is sealed under.</summary>
public sealed record CredentialProfile(
    long Id,
    string Name,
    string Protocol,
    string? User,
    string? AuthProtocol,
    string? PrivProtocol,
    string SecretKeyId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

public static class CredentialProtocols
{
    public const string SnmpV2c = "snmp_v2c";
    public const string SnmpV3 = "snmp_v3";
    public const string Ssh = "ssh";

    public static readonly IReadOnlyList<string> All = [SnmpV2c, SnmpV3, Ssh];
    public static readonly IReadOnlyList<string> AuthProtocols = ["none", "sha1", "sha256"];
    public static readonly IReadOnlyList<string> PrivProtocols = ["none", "aes128"];
}
