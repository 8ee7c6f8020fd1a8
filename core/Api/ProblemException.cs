namespace Nms.Core.Api;

/// <summary>
/// A failure the client caused or should know about; becomes an RFC 9457 problem+json response.
/// <paramref name="Field"/> names the request field at fault, when there is one.
/// </summary>
public sealed class ProblemException(int status, string title, string? detail = null, string? field = null, IReadOnlyDictionary<string, object?>? extensions = null)
    : Exception(detail ?? title)
{
    public int Status { get; } = status;
    public string Title { get; } = title;
    public string? Detail { get; } = detail;
    public string? Field { get; } = field;
    public IReadOnlyDictionary<string, object?> Extensions { get; } = extensions ?? new Dictionary<string, object?>();

    public static ProblemException BadRequest(string field, string detail) => new(400, "Invalid request", detail, field);
    public static ProblemException NotFound(string detail) => new(404, "Not found", detail);
    public static ProblemException Conflict(string detail, IReadOnlyDictionary<string, object?>? extensions = null) => new(409, "Conflict", detail, extensions: extensions);
}
