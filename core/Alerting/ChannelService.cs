using Microsoft.Extensions.DependencyInjection;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Nms.Core.Api;
using Nms.Core.Credentials;
using Nms.Core.Entities;
using Nms.Core.Data;
using Npgsql;
using static Nms.Core.Entities.EntityValidation;

namespace Nms.Core.Alerting;

/// <summary>
/// Notification channels. URLs (Slack and Teams URLs carry their token), signing secrets and SMTP
/// passwords are sealed with the credential profiles' <see cref="SecretSealer"/> and never returned;
/// a PUT replaces the channel, so its secrets are sent again.
/// </summary>
public sealed class ChannelService([FromKeyedServices(NmsDataSources.ApiKey)] NpgsqlDataSource dataSource, SecretSealer sealer, TimeProvider time, ILogger<ChannelService> logger)
{
    public const int MaxRecipients = 20;
    private const string UniqueName = "notification_channels_name_key";

    public async Task<Channel> CreateAsync(ChannelRequest request, CancellationToken cancellationToken)
    {
        var (valid, settings, secrets) = Validate(request);
        var sealedSecret = Seal(secrets);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var channel = (await EntityDb.QueryAsync(connection, null, AlertingSql.InsertChannel, Read, cancellationToken,
                valid.Name, valid.Kind, Json(settings), sealedSecret.Ciphertext, sealedSecret.KeyId, valid.RouteAll, valid.MinSeverity, valid.MatchTags!.ToArray(),
                valid.SendResolved, valid.RepeatIntervalSeconds, time.GetUtcNow()))[0];
            logger.LogInformation("Created notification channel {ChannelId} ({Kind})", channel.Id, channel.Kind);
            return channel;
        }
        catch (PostgresException ex) when (ex.Violates(PostgresErrorCodes.UniqueViolation, UniqueName))
        {
            throw ProblemException.Conflict($"A notification channel named '{valid.Name}' already exists.");
        }
    }

    public async Task<Channel> ReplaceAsync(long id, ChannelRequest request, CancellationToken cancellationToken)
    {
        var (valid, settings, secrets) = Validate(request);
        var sealedSecret = Seal(secrets);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var rows = await EntityDb.QueryAsync(connection, null, AlertingSql.UpdateChannel, Read, cancellationToken,
                id, valid.Name, valid.Kind, Json(settings), sealedSecret.Ciphertext, sealedSecret.KeyId, valid.RouteAll, valid.MinSeverity, valid.MatchTags!.ToArray(),
                valid.SendResolved, valid.RepeatIntervalSeconds, time.GetUtcNow());
            return rows.Count == 0 ? throw NotFound(id) : rows[0];
        }
        catch (PostgresException ex) when (ex.Violates(PostgresErrorCodes.UniqueViolation, UniqueName))
        {
            throw ProblemException.Conflict($"A notification channel named '{valid.Name}' already exists.");
        }
    }

    public async Task<Channel> GetAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await EntityDb.QuerySingleAsync(connection, null, AlertingSql.SelectChannel, Read, cancellationToken, id) ?? throw NotFound(id);
    }

    public async Task<IReadOnlyList<Channel>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await EntityDb.QueryAsync(connection, null, AlertingSql.ListChannels, Read, cancellationToken);
    }

    public async Task DeleteAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (await EntityDb.ExecuteAsync(connection, null, AlertingSql.DeleteChannel, cancellationToken, id) == 0)
        {
            throw NotFound(id);
        }

        logger.LogInformation("Deleted notification channel {ChannelId}", id);
    }

    /// <summary>The channel with its secrets opened, in memory only, for a delivery. Null when it is gone.</summary>
    public async Task<ChannelTarget?> OpenAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, long id, CancellationToken cancellationToken) =>
        await EntityDb.QuerySingleAsync(connection, transaction, AlertingSql.SelectChannelSecrets, r => new ChannelTarget(
            id, r.GetString(0), r.GetString(1),
            JsonSerializer.Deserialize<ChannelSettings>(r.GetString(2), CredentialReader.StorageJson) ?? new ChannelSettings(),
            JsonSerializer.Deserialize<ChannelSecrets>(sealer.Open(new SealedSecret(r.GetString(3), (byte[])r[4])), CredentialReader.StorageJson) ?? new ChannelSecrets()),
            cancellationToken, id);

    internal static (ChannelRequest Valid, ChannelSettings Settings, ChannelSecrets Secrets) Validate(ChannelRequest request)
    {
        var kind = OneOf(request.Kind, ChannelKinds.All, "kind");
        var repeat = request.RepeatIntervalSeconds ?? 14_400;
        if (repeat is < 60 or > 30 * 86_400)
        {
            throw ProblemException.BadRequest("repeat_interval_seconds", "'repeat_interval_seconds' must be 60-2592000.");
        }

        var valid = request with
        {
            Name = RequiredText(request.Name, "name"),
            Kind = kind,
            RouteAll = request.RouteAll ?? false,
            MinSeverity = request.MinSeverity is null ? "info" : OneOf(request.MinSeverity, AlertKinds.Severities, "min_severity"),
            MatchTags = Tag.Texts(Tag.ParseAll(request.MatchTags, "match_tags")),
            SendResolved = request.SendResolved ?? true,
            RepeatIntervalSeconds = repeat,
        };
        if (kind == ChannelKinds.Email)
        {
            return Email(valid);
        }

        var why = $"for a {kind} channel";
        Absent(request.SmtpHost, "smtp_host", why);
        Absent(request.SmtpPort, "smtp_port", why);
        Absent(request.SmtpSecurity, "smtp_security", why);
        Absent(request.SmtpUser, "smtp_user", why);
        Absent(request.SmtpPassword, "smtp_password", why);
        Absent(request.EmailFrom, "email_from", why);
        Absent(request.EmailTo, "email_to", why);
        Absent(request.SmtpTlsCertificateSha256, "smtp_tls_certificate_sha256", why);
        Absent(request.SmtpTlsCaPem, "smtp_tls_ca_pem", why);
        var url = Url(request.Url);
        string? signing = null;
        if (kind == ChannelKinds.Webhook)
        {
            signing = RequiredText(request.SigningSecret, "signing_secret", 200);
            if (signing.Length < 16)
            {
                throw ProblemException.BadRequest("signing_secret", "'signing_secret' must be at least 16 characters.");
            }
        }
        else
        {
            Absent(request.SigningSecret, "signing_secret", why);
        }

        return (valid, new ChannelSettings(), new ChannelSecrets(Url: url, SigningSecret: signing));
    }

    private static (ChannelRequest, ChannelSettings, ChannelSecrets) Email(ChannelRequest request)
    {
        Absent(request.Url, "url", "for an email channel");
        Absent(request.SigningSecret, "signing_secret", "for an email channel");
        var host = RequiredText(request.SmtpHost, "smtp_host", 253);
        var port = Port(request.SmtpPort ?? 587, "smtp_port");
        var security = request.SmtpSecurity is null ? "starttls" : OneOf(request.SmtpSecurity, ChannelKinds.SmtpSecurities, "smtp_security");
        var user = Text(request.SmtpUser, "smtp_user", 200);
        var password = Text(request.SmtpPassword, "smtp_password", 200);
        if ((user is null) != (password is null))
        {
            throw ProblemException.BadRequest(user is null ? "smtp_user" : "smtp_password", "'smtp_user' and 'smtp_password' go together (SMTP AUTH).");
        }

        var from = Address(request.EmailFrom, "email_from");
        var to = request.EmailTo is { Count: > 0 and <= MaxRecipients } list
            ? list.Select((a, i) => Address(a, $"email_to[{i}]")).Distinct().ToList()
            : throw ProblemException.BadRequest("email_to", $"'email_to' needs 1-{MaxRecipients} addresses.");
        var (pin, ca) = SmtpTrust.Validate(request.SmtpTlsCertificateSha256, request.SmtpTlsCaPem, security);
        return (request, new ChannelSettings(host, port, security, user, from, to, pin, ca), new ChannelSecrets(SmtpPassword: password));
    }

    private static string Url(string? value)
    {
        var text = RequiredText(value, "url", 2048);
        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" && !string.IsNullOrEmpty(uri.Host)
            ? text
            : throw ProblemException.BadRequest("url", "'url' must be an absolute http(s) URL.");
    }

    private static string Address(string? value, string field)
    {
        var text = RequiredText(value, field, 254);
        return MimeKit.MailboxAddress.TryParse(text, out var address) && address.Address.Contains('@', StringComparison.Ordinal)
            ? address.Address
            : throw ProblemException.BadRequest(field, $"'{field}' is not an email address.");
    }

    private SealedSecret Seal(ChannelSecrets secrets) => sealer.Seal(JsonSerializer.SerializeToUtf8Bytes(secrets, CredentialReader.StorageJson));

    private static string Json(ChannelSettings settings) => JsonSerializer.Serialize(settings, CredentialReader.StorageJson);

    private static Channel Read(NpgsqlDataReader r)
    {
        var settings = JsonSerializer.Deserialize<ChannelSettings>(r.GetString(3), CredentialReader.StorageJson) ?? new ChannelSettings();
        return new Channel(r.GetInt64(0), r.GetString(1), r.GetString(2), settings.SmtpHost, settings.SmtpPort, settings.SmtpSecurity, settings.SmtpUser,
            settings.EmailFrom, settings.EmailTo, settings.SmtpTlsCertificateSha256, settings.SmtpTlsCaPem, r.GetBoolean(4), r.GetString(5), r.GetFieldValue<string[]>(6), r.GetBoolean(7), r.GetInt32(8), r.GetString(9),
            r.NullableTimestamp(10), r.NullableString(11), r.NullableTimestamp(12), r.Timestamp(13), r.Timestamp(14));
    }

    private static ProblemException NotFound(long id) => ProblemException.NotFound($"No notification channel with id {id}.");
}

/// <summary>A channel ready to deliver to: secrets opened in memory. Never logged.</summary>
public sealed record ChannelTarget(long Id, string Kind, string Name, ChannelSettings Settings, ChannelSecrets Secrets)
{
    public override string ToString() => $"ChannelTarget {{ Id = {Id}, Kind = {Kind} }}";
}
