using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Nms.Core.Api;
using Nms.Core.Configuration;

namespace Nms.Functions.Http;

public static class HttpJson
{
    /// <summary>Reads a JSON body with the API's options; bad or oversized input becomes a 400 or 413 naming the field.</summary>
    public static Task<T> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class => ReadAsync<T>(request, ApiGate.MaxBodyBytes, cancellationToken);

    /// <summary>As above, for a route with a smaller body limit than the gate's.</summary>
    public static async Task<T> ReadAsync<T>(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
        where T : class
    {
        if (request.ContentLength > maxBytes)
        {
            throw TooLarge(maxBytes);
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw TooLarge(maxBytes);
            }

            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0)
        {
            throw ProblemException.BadRequest("body", "A JSON body is required.");
        }

        try
        {
            return JsonSerializer.Deserialize<T>(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), NmsJson.Api)
                ?? throw ProblemException.BadRequest("body", "A JSON object is required.");
        }
        catch (JsonException json)
        {
            throw ProblemException.BadRequest(ApiGate.FieldOf(json), ProblemDetail(json));
        }
    }

    private static ProblemException TooLarge(long maxBytes) => new(413, "Payload too large", $"The body is larger than {maxBytes} bytes.");

    private static string ProblemDetail(JsonException json) =>
        json.Message.Contains("could not be mapped", StringComparison.Ordinal)
            ? $"Unknown field '{ApiGate.FieldOf(json)}'."
            : $"'{ApiGate.FieldOf(json)}' has the wrong type or is malformed.";
}
