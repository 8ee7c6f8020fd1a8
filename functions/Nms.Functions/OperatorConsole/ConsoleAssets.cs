using System.Collections.Frozen;
using System.Security.Cryptography;

namespace Nms.Functions.OperatorConsole;

/// <summary>One built file of the console, held in memory with its validator.</summary>
public sealed record ConsoleAsset(string Path, byte[] Content, string ContentType, string ETag);

/// <summary>
/// The console's built static files (<c>console/</c> beside the app's assemblies, produced by the
/// npm build that Nms.Functions.csproj runs), read once. Only files found there can be served: a
/// request path is a dictionary key, never joined onto the file system.
/// </summary>
public sealed class ConsoleAssets
{
    public const string IndexFile = "index.html";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
        [".ico"] = "image/x-icon",
        [".json"] = "application/json; charset=utf-8",
        [".map"] = "application/json; charset=utf-8",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private readonly Lazy<FrozenDictionary<string, ConsoleAsset>> files;

    public ConsoleAssets()
        : this(System.IO.Path.Combine(AppContext.BaseDirectory, "console"))
    {
    }

    public ConsoleAssets(string directory)
    {
        Directory = directory;
        files = new Lazy<FrozenDictionary<string, ConsoleAsset>>(Load);
    }

    public string Directory { get; }

    /// <summary>False when the app was built without the console (no npm): the route then says so.</summary>
    public bool Built => files.Value.ContainsKey(IndexFile);

    public ConsoleAsset? Find(string path) => files.Value.GetValueOrDefault(path);

    private FrozenDictionary<string, ConsoleAsset> Load()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return FrozenDictionary<string, ConsoleAsset>.Empty;
        }

        return System.IO.Directory.EnumerateFiles(Directory, "*", SearchOption.AllDirectories)
            .Select(file => (file, relative: System.IO.Path.GetRelativePath(Directory, file).Replace('\\', '/')))
            .Where(f => ContentTypes.ContainsKey(System.IO.Path.GetExtension(f.relative)))
            .Select(f => Read(f.file, f.relative))
            .ToFrozenDictionary(a => a.Path, StringComparer.Ordinal);
    }

    private static ConsoleAsset Read(string file, string relative)
    {
        var content = File.ReadAllBytes(file);
        var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 12)) + "\"";
        return new ConsoleAsset(relative, content, ContentTypes[System.IO.Path.GetExtension(relative)], etag);
    }
}
