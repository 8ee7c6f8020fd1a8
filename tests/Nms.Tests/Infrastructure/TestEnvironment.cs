namespace Nms.Tests.Infrastructure;

/// <summary>The services <c>./nms test</c> starts and hands over in environment variables.</summary>
public static class TestEnvironment
{
    public static string PostgresAdmin => Required("NMS_TEST_PG_ADMIN");

    public static string Azurite => Required("NMS_TEST_AZURITE");

    public static string PluginsDirectory => Required("NMS_PLUGINS_DIR");

    public static string Fping => Environment.GetEnvironmentVariable("NMS_FPING") is { Length: > 0 } path ? path : "/usr/bin/fping";

    public static string RepositoryRoot { get; } = FindRoot();

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the tests with ./nms test, which starts PostgreSQL, Azurite and the plugins for them.");

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Nms.Functions.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Nms.Functions.sln not found above the test output folder.");
    }
}
