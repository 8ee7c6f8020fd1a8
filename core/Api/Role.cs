namespace Nms.Core.Api;

/// <summary>Ordered: each role can do everything the ones below it can.</summary>
public enum Role
{
    Reader = 1,
    Operator = 2,
    Admin = 3,
}

/// <summary>
/// Declares the lowest role an HTTP function accepts. Every HTTP function must carry one
/// (a test enforces it); <see cref="Anonymous"/> is the explicit opt-out, used by health only.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequireRoleAttribute(Role role) : Attribute
{
    public Role Role { get; } = role;
}

[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class AnonymousAttribute : Attribute;

/// <summary>Who called: the key's id (safe to log) and its role. Never the key itself.</summary>
public sealed record ApiPrincipal(string KeyId, string Name, Role Role);

public interface IApiKeyAuthenticator
{
    /// <summary>Null when the key is unknown or revoked. Compares in constant time.</summary>
    Task<ApiPrincipal?> AuthenticateAsync(string presentedKey, CancellationToken cancellationToken);
}
