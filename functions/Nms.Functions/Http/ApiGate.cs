using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Nms.Core.Api;

namespace Nms.Functions.Http;

/// <summary>
/// The cross-cutting part of every HTTP function: API-key authentication against the role the
/// function declares, and every exception turned into RFC 9457 problem+json. Under Azure it runs
/// in <see cref="ApiGateMiddleware"/>; under the local host, around each invocation. Same code.
/// </summary>
public sealed class ApiGate(IApiKeyAuthenticator authenticator, ILogger<ApiGate> logger)
{
    public const long MaxBodyBytes = 1024 * 1024;
    private const string PrincipalItem = "nms.principal";

    public static ApiPrincipal? PrincipalOf(HttpContext http) => http.Items[PrincipalItem] as ApiPrincipal;

    /// <summary>The role a function requires; null for an explicitly anonymous one.</summary>
    public static Role? RequiredRole(MethodInfo function)
    {
        if (function.GetCustomAttribute<AnonymousAttribute>() is not null)
        {
            return null;
        }

        return function.GetCustomAttribute<RequireRoleAttribute>()?.Role
            ?? throw new InvalidOperationException($"HTTP function {function.DeclaringType?.Name}.{function.Name} declares no [RequireRole] or [Anonymous].");
    }

    public async Task InvokeAsync(HttpContext http, MethodInfo function, Func<Task> invokeFunction)
    {
        var cancellationToken = http.RequestAborted;
        try
        {
            if (http.Request.ContentLength > MaxBodyBytes)
            {
                throw new ProblemException(413, "Payload too large", $"The body is larger than {MaxBodyBytes} bytes.");
            }

            var required = RequiredRole(function);
            if (required is not null && !await AuthorizeAsync(http, required.Value, cancellationToken))
            {
                return;
            }

            if (HasBody(http.Request) && !IsJson(http.Request.ContentType))
            {
                throw new ProblemException(415, "Unsupported media type", "Send the body as JSON with 'Content-Type: application/json'.");
            }

            using (logger.BeginScope(new Dictionary<string, object?> { ["ApiKeyId"] = PrincipalOf(http)?.KeyId }))
            {
                await invokeFunction();
            }
        }
        catch (ProblemException problem)
        {
            await WriteProblemAsync(http, problem);
        }
        catch (JsonException json)
        {
            await WriteProblemAsync(http, ProblemException.BadRequest(FieldOf(json), "The body is not valid JSON for this resource."));
        }
        catch (BadHttpRequestException bad)
        {
            await WriteProblemAsync(http, new ProblemException(bad.StatusCode, "Bad request", "The request could not be read."));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away; nobody is left to answer.
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Unhandled error in {Function}", function.Name);
            await WriteProblemAsync(http, new ProblemException(500, "Internal error", "The request failed; the error is logged."));
        }
    }

    private async Task<bool> AuthorizeAsync(HttpContext http, Role required, CancellationToken cancellationToken)
    {
        var key = PresentedKey(http.Request);
        if (key is null)
        {
            await WriteProblemAsync(http, new ProblemException(401, "Unauthorized", "Send an API key as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'."));
            return false;
        }

        var principal = await authenticator.AuthenticateAsync(key, cancellationToken);
        if (principal is null)
        {
            await WriteProblemAsync(http, new ProblemException(401, "Unauthorized", "The API key is unknown or revoked."));
            return false;
        }

        if (principal.Role < required)
        {
            logger.LogInformation("Key {ApiKeyId} with role {Role} refused: {Path} needs {Required}", principal.KeyId, principal.Role, http.Request.Path.Value, required);
            await WriteProblemAsync(http, new ProblemException(403, "Forbidden", $"This route needs the '{required.ToString().ToLowerInvariant()}' role."));
            return false;
        }

        http.Items[PrincipalItem] = principal;
        return true;
    }

    private static string? PresentedKey(HttpRequest request)
    {
        var apiKey = request.Headers["X-Api-Key"].ToString();
        if (!string.IsNullOrWhiteSpace(apiKey))
        {
            return apiKey.Trim();
        }

        var authorization = request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        return authorization.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) && authorization.Length > bearer.Length
            ? authorization[bearer.Length..].Trim()
            : null;
    }

    private static bool HasBody(HttpRequest request) =>
        request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);

    /// <summary><c>application/json</c> or <c>application/*+json</c>, in UTF-8 (the only charset JSON has, RFC 8259).</summary>
    internal static bool IsJson(string? contentType)
    {
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media) || media.MediaType.Value is not { } type)
        {
            return false;
        }

        var json = type.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (type.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && type.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
        var charset = media.Charset.Value;
        return json && (charset is null || charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>"$.credential_ids[2]" → "credential_ids[2]".</summary>
    internal static string FieldOf(JsonException json)
    {
        var path = json.Path;
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return "body";
        }

        return path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
    }

    public static async Task WriteProblemAsync(HttpContext http, ProblemException problem, IReadOnlyDictionary<string, string>? headers = null)
    {
        if (http.Response.HasStarted)
        {
            return;
        }

        http.Response.Clear();
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            http.Response.Headers[name] = value;
        }

        http.Response.StatusCode = problem.Status;
        http.Response.ContentType = "application/problem+json";
        var body = new Dictionary<string, object?>
        {
            ["type"] = $"https://httpstatuses.io/{problem.Status}",
            ["title"] = problem.Title,
            ["status"] = problem.Status,
            ["detail"] = problem.Detail,
            ["instance"] = http.Request.Path.Value,
        };
        if (problem.Field is not null)
        {
            body["field"] = problem.Field;
        }

        foreach (var (name, value) in problem.Extensions)
        {
            body[name] = value;
        }

        await JsonSerializer.SerializeAsync(http.Response.Body, body, Core.Configuration.NmsJson.Api, CancellationToken.None);
    }
}
