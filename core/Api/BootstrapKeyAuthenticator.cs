using System.Security.Cryptography;
using System.Text;
using Nms.Core.Configuration;

namespace Nms.Core.Api;

/// <summary>Accepts only the bootstrap admin key from settings; the fallback when no key store is registered.</summary>
public sealed class BootstrapKeyAuthenticator(AuthOptions options) : IApiKeyAuthenticator
{
    public const string BootstrapKeyId = "bootstrap";

    public Task<ApiPrincipal?> AuthenticateAsync(string presentedKey, CancellationToken cancellationToken) =>
        Task.FromResult(Matches(options.BootstrapAdminKey, presentedKey) ? new ApiPrincipal(BootstrapKeyId, "bootstrap admin", Role.Admin) : null);

    /// <summary>Constant-time comparison; an empty configured key matches nothing.</summary>
    public static bool Matches(string configuredKey, string presentedKey)
    {
        if (string.IsNullOrEmpty(configuredKey))
        {
            return false;
        }

        var configured = SHA256.HashData(Encoding.UTF8.GetBytes(configuredKey));
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(presentedKey));
        return CryptographicOperations.FixedTimeEquals(configured, presented);
    }
}
