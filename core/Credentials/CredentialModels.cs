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
    public const string SnmpV1 = "snmp_v1";
    public const string SnmpV2c = "snmp_v2c";
    public const string SnmpV3 = "snmp_v3";
    public const string Ssh = "ssh";

    public static readonly IReadOnlyList<string> All = [SnmpV1, SnmpV2c, SnmpV3, Ssh];

    /// <summary>What the snmp plugin's codec speaks (plugins/README.md); anything else is a 400, never a downgrade.</summary>
    public static readonly IReadOnlyList<string> AuthProtocols = ["none", "md5", "sha1", "sha224", "sha256", "sha384", "sha512"];
    public static readonly IReadOnlyList<string> PrivProtocols = ["none", "des", "aes128", "aes192", "aes256"];
}
