using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Nms.Core.Api;
using Nms.Core.Configuration;

namespace Nms.Functions.Entities;

/// <summary>Responses and query parsing for the entity functions; the body is written with <see cref="NmsJson.Api"/>.</summary>
public static class EntityHttp
{
    public static IActionResult Ok(object body) => new ApiJsonResult(body, StatusCodes.Status200OK, null);

    public static IActionResult Created(object body, string location) => new ApiJsonResult(body, StatusCodes.Status201Created, location);

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
