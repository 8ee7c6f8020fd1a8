using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Nms.Core.Configuration;

namespace Nms.Core.Alerting;

/// <summary>Delivers one payload to one channel; throws <see cref="NotificationDeliveryException"/> with a safe message on failure.</summary>
public interface INotificationSender
{
    Task SendAsync(ChannelTarget channel, NotificationPayload payload, CancellationToken cancellationToken);
}

/// <summary>
/// Webhook (JSON, <c>X-Nms-Signature-256: sha256=&lt;hex HMAC-SHA256 of the body&gt;</c>), Slack,
/// Teams (HTTP POST) and email (MailKit: STARTTLS, implicit TLS or none; AUTH when a user is set).
/// Each delivery has a timeout; errors never carry the channel's URL or password.
/// </summary>
public sealed class NotificationSender(AlertingOptions options) : INotificationSender, IDisposable
{
    public const string SignatureHeader = "X-Nms-Signature-256";
    public const string DeliveryHeader = "X-Nms-Delivery";

    private readonly HttpClient http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AllowAutoRedirect = false })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public static string Signature(byte[] body, string secret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    public async Task SendAsync(ChannelTarget channel, NotificationPayload payload, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(Math.Max(1, options.DeliveryTimeoutSeconds)));
        try
        {
            switch (channel.Kind)
            {
                case ChannelKinds.Email:
                    await SendEmailAsync(channel, payload, timeout.Token);
                    break;
                default:
                    await PostAsync(channel, payload, timeout.Token);
                    break;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new NotificationDeliveryException($"{channel.Kind}: no answer within {options.DeliveryTimeoutSeconds} s");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or System.Net.Sockets.SocketException or MailKit.ProtocolException or MailKit.CommandException or AuthenticationException or SslHandshakeException)
        {
            throw new NotificationDeliveryException($"{channel.Kind}: {ex.GetType().Name}: {Safe(ex.Message, channel)}");
        }
    }

    private async Task PostAsync(ChannelTarget channel, NotificationPayload payload, CancellationToken cancellationToken)
    {
        var body = channel.Kind switch
        {
            ChannelKinds.Slack => payload.SlackBody(),
            ChannelKinds.Teams => payload.TeamsBody(),
            _ => payload.WebhookBody(),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, channel.Secrets.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation(DeliveryHeader, payload.DeliveryId);
        if (channel.Kind == ChannelKinds.Webhook && channel.Secrets.SigningSecret is { } secret)
        {
            request.Headers.TryAddWithoutValidation(SignatureHeader, Signature(body, secret));
        }

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new NotificationDeliveryException($"{channel.Kind}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        }
    }

    private static async Task SendEmailAsync(ChannelTarget channel, NotificationPayload payload, CancellationToken cancellationToken)
    {
        var settings = channel.Settings;
        using var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(settings.EmailFrom ?? ""));
        foreach (var to in settings.EmailTo ?? [])
        {
            message.To.Add(MailboxAddress.Parse(to));
        }

        message.Subject = payload.Subject();
        message.Headers.Add(DeliveryHeader, payload.DeliveryId);
        message.Body = new TextPart("plain") { Text = payload.Text() };

        using var smtp = new SmtpClient();
        if (SmtpTrust.Validator(settings) is { } validator)
        {
            smtp.ServerCertificateValidationCallback = validator;
            smtp.CheckCertificateRevocation = false; // a pinned or private CA's certificate has nowhere to publish revocation
        }

        var security = settings.SmtpSecurity switch
        {
            "tls" => SecureSocketOptions.SslOnConnect,
            "none" => SecureSocketOptions.None,
            _ => SecureSocketOptions.StartTls,
        };
        await smtp.ConnectAsync(settings.SmtpHost ?? "", settings.SmtpPort ?? 587, security, cancellationToken);
        if (settings.SmtpUser is not null)
        {
            await smtp.AuthenticateAsync(settings.SmtpUser, channel.Secrets.SmtpPassword ?? "", cancellationToken);
        }

        await smtp.SendAsync(message, cancellationToken);
        await smtp.DisconnectAsync(quit: true, cancellationToken);
    }

    /// <summary>Exception texts may quote the URL (with its token); cut it out.</summary>
    private static string Safe(string message, ChannelTarget channel)
    {
        var text = message;
        foreach (var secret in new[] { channel.Secrets.Url, channel.Secrets.SmtpPassword, channel.Secrets.SigningSecret }.OfType<string>().Where(s => s.Length > 0))
        {
            text = text.Replace(secret, "***", StringComparison.Ordinal);
        }

        return text.Length > 500 ? text[..500] : text;
    }

    public void Dispose() => http.Dispose();
}

public sealed class NotificationDeliveryException(string message) : Exception(message);
