using Microsoft.Extensions.Logging.Abstractions;
using Nms.Core.Data;
using Npgsql;

namespace Nms.Tests.Infrastructure;

/// <summary>
/// A database of its own for one test class: copied from a template migrated once per test run,
/// dropped on dispose. Tests never see each other's rows.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private const string TemplateName = "nms_test_template";
    private static readonly Lazy<Task> Template = new(CreateTemplateAsync);

    private TestDatabase(string name)
    {
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresAdmin) { Database = name, MaxPoolSize = 50 }.ConnectionString;
        DataSource = NpgsqlDataSource.Create(ConnectionString);
    }

    public string Name { get; }
    public string ConnectionString { get; }
    public NpgsqlDataSource DataSource { get; }

    /// <param name="migrated">False for an empty database (migration tests).</param>
    public static async Task<TestDatabase> CreateAsync(bool migrated = true)
    {
        if (migrated)
        {
            await Template.Value;
        }

        var name = $"nms_test_{Guid.NewGuid():N}";
        var template = migrated ? TemplateName : "template0";
        await AdminAsync($"CREATE DATABASE {name} TEMPLATE {template}");
        return new TestDatabase(name);
    }

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var command = DataSource.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task<int> ExecuteAsync(string sql, params object[] parameters)
    {
        await using var command = DataSource.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await AdminAsync($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
    }

    private static async Task CreateTemplateAsync()
    {
        await AdminAsync($"DROP DATABASE IF EXISTS {TemplateName} WITH (FORCE)");
        await AdminAsync($"CREATE DATABASE {TemplateName} TEMPLATE template0");
        var connectionString = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresAdmin) { Database = TemplateName, Pooling = false }.ConnectionString;
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await new MigrationRunner(dataSource, NullLogger<MigrationRunner>.Instance).MigrateAsync(CancellationToken.None);
    }

    private static async Task AdminAsync(string sql)
    {
        // CREATE DATABASE fails while another session copies the same template; retry briefly.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = new NpgsqlConnection(TestEnvironment.PostgresAdmin);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand(sql, connection);
                await command.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ObjectInUse && attempt < 20)
            {
                await Task.Delay(100 * attempt);
            }
        }
    }
}
