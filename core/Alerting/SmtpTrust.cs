using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Nms.Core.Api;

namespace Nms.Core.Alerting;

/// <summary>
/// How an email channel trusts its SMTP server's TLS certificate. Default: the system's roots and the
/// host name, as any mail client. For a server with a self-signed or private-CA certificate, one of:
/// <c>smtp_tls_certificate_sha256</c>, the SHA-256 fingerprint of the server's certificate (pinning:
/// exactly that certificate, whoever issued it), or <c>smtp_tls_ca_pem</c>, CA certificates that issue
/// it (the chain must end in one of them and the name must match). Never "accept any certificate".
/// </summary>
public static class SmtpTrust
{
    public const int MaxCaPemLength = 64 * 1024;

    /// <summary>The hex SHA-256 of a certificate's DER bytes, as <c>openssl x509 -fingerprint -sha256</c> prints it (without colons, lower case).</summary>
    public static string Fingerprint(X509Certificate certificate) => Convert.ToHexStringLower(SHA256.HashData(certificate.GetRawCertData()));

    /// <summary>The normalised pin and CA PEM of a request; a 400 naming the field when either is malformed or meaningless.</summary>
    public static (string? Pin, string? CaPem) Validate(string? pin, string? caPem, string security)
    {
        if (pin is null && caPem is null)
        {
            return (null, null);
        }

        var field = pin is not null ? "smtp_tls_certificate_sha256" : "smtp_tls_ca_pem";
        if (security == "none")
        {
            throw ProblemException.BadRequest(field, $"'{field}' needs smtp_security 'starttls' or 'tls'.");
        }

        if (pin is not null && caPem is not null)
        {
            throw ProblemException.BadRequest("smtp_tls_ca_pem", "Give 'smtp_tls_certificate_sha256' or 'smtp_tls_ca_pem', not both.");
        }

        if (pin is not null)
        {
            var hex = pin.Replace(":", "", StringComparison.Ordinal).Trim().ToLowerInvariant();
            return hex.Length == 64 && hex.All(Uri.IsHexDigit)
                ? (hex, null)
                : throw ProblemException.BadRequest("smtp_tls_certificate_sha256", "'smtp_tls_certificate_sha256' must be 64 hex digits (colons allowed): the SHA-256 fingerprint of the server's certificate.");
        }

        if (caPem!.Length > MaxCaPemLength || Roots(caPem).Count == 0)
        {
            throw ProblemException.BadRequest("smtp_tls_ca_pem", $"'smtp_tls_ca_pem' must hold 1 or more PEM certificates (-----BEGIN CERTIFICATE-----), at most {MaxCaPemLength / 1024} KB.");
        }

        return (null, caPem);
    }

    /// <summary>The certificate check for a channel, or null for the system's default (roots and name).</summary>
    public static RemoteCertificateValidationCallback? Validator(ChannelSettings settings)
    {
        if (settings.SmtpTlsCertificateSha256 is { } pin)
        {
            return (_, certificate, _, _) => certificate is not null && CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.ASCII.GetBytes(Fingerprint(certificate)), System.Text.Encoding.ASCII.GetBytes(pin));
        }

        if (settings.SmtpTlsCaPem is { } pem)
        {
            var roots = Roots(pem);
            return (_, certificate, _, errors) => certificate is not null && IssuedByRoots(certificate, roots, errors);
        }

        return null;
    }

    private static bool IssuedByRoots(X509Certificate certificate, X509Certificate2Collection roots, SslPolicyErrors errors)
    {
        // The name must still match and a certificate must have been sent; only the chain is judged against the channel's roots.
        if ((errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(leaf);
    }

    private static X509Certificate2Collection Roots(string pem)
    {
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPem(pem);
        }
        catch (CryptographicException)
        {
            roots.Clear();
        }

        return roots;
    }
}
