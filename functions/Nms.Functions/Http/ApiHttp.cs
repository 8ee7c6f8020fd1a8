using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Nms.Core.Api;
using Nms.Core.Configuration;

namespace Nms.Functions.Http;

/// <summary>
/// The HTTP edge of every function: one result type (the body written with <see cref="NmsJson.Api"/>)
/// and one parser for route ids and query parameters, so every route answers bad input the same way.
/// </summary>
public static class ApiHttp
{
    public static IActionResult Ok(object body) => new ApiJsonResult(body, StatusCodes.Status200OK, null);

    public static IActionResult Created(object body, string location) => new ApiJsonResult(body, StatusCodes.Status201Created, location);

    public static IActionResult Accepted(object body, string location) => new ApiJsonResult(body, StatusCodes.Status202Accepted, location);

    public static IActionResult Json(object body, int status) => new ApiJsonResult(body, status, null);

    /// <summary>A body that is JSON already (the OpenAPI document).</summary>
    public static IActionResult RawJson(string json) => new ApiJsonResult(json, StatusCodes.Status200OK, null);

    public static IActionResult NoContent() => new StatusCodeResult(StatusCodes.Status204NoContent);

    /// <summary>A query parameter as an int, or null when absent; 400 naming it when malformed.</summary>
    public static int? QueryInt(HttpRequest request, string name)
    {
        var text = QueryString(request, name);
        if (text is null)
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw ProblemException.BadRequest(name, $"'{name}' must be an integer.");
    }

    /// <summary>The <c>limit</c> query parameter: <paramref name="defaultLimit"/> when absent; 400 naming it unless 1 to <paramref name="max"/>.</summary>
    public static int Limit(HttpRequest request, int defaultLimit, int max)
    {
        var text = QueryString(request, "limit");
        if (text is null)
        {
            return defaultLimit;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit >= 1 && limit <= max
            ? limit
            : throw ProblemException.BadRequest("limit", $"'limit' must be an integer from 1 to {max}.");
    }

    /// <summary>A route id that is not a positive integer written plainly (no sign, leading zero or dot) names nothing: 404.</summary>
    public static long Id(string? text, string what) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0 && text[0] != '0'
            ? id
            : throw ProblemException.NotFound($"No {what} with id '{text}'.");

    public static Guid GuidId(string? text, string what) =>
        Guid.TryParse(text, out var id) ? id : throw ProblemException.NotFound($"No {what} with id '{text}'.");

    /// <summary>A query parameter, null when absent or empty; 400 when repeated.</summary>
    public static string? QueryString(HttpRequest request, string name)
    {
        var values = request.Query[name];
        if (values.Count > 1)
        {
            throw ProblemException.BadRequest(name, $"'{name}' is given more than once.");
        }

        var value = values.ToString();
        return string.IsNullOrEmpty(value) ? null : value;
    }

    /// <summary>Writes the body itself, so the result needs no MVC formatter under either host.</summary>
    private sealed class ApiJsonResult(object body, int status, string? location) : IActionResult
    {
        public async Task ExecuteResultAsync(ActionContext context)
        {
            var response = context.HttpContext.Response;
            response.StatusCode = status;
            response.ContentType = "application/json; charset=utf-8";
            if (location is not null)
            {
                response.Headers.Location = location;
            }

            if (body is string json)
            {
                await response.WriteAsync(json, context.HttpContext.RequestAborted);
                return;
            }

            await JsonSerializer.SerializeAsync(response.Body, body, body.GetType(), NmsJson.Api, context.HttpContext.RequestAborted);
        }
    }
}
