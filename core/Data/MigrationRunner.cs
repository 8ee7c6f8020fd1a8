using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Nms.Core.Data;

/// <summary>
/// Applies the embedded <c>Migrations/NNN_name.sql</c> files in order, each in its own transaction,
/// under a session advisory lock so scaled-out instances starting together do not race; then the
/// <see cref="IDataMigration"/>s, under the same lock.
/// </summary>
public sealed partial class MigrationRunner([FromKeyedServices(NmsDataSources.ApiKey)] NpgsqlDataSource dataSource, ILogger<MigrationRunner> logger, IEnumerable<IDataMigration>? dataMigrations = null)
{
    // The lock key is any constant shared by every instance of this app.
    private const string LockSql = "SELECT pg_advisory_lock(5136160953608519)";
    private const string UnlockSql = "SELECT pg_advisory_unlock(5136160953608519)";

    private const string CreateVersionTableSql = """
        CREATE TABLE IF NOT EXISTS schema_versions (
            version    integer PRIMARY KEY,
            name       text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """;

    public static IReadOnlyList<Migration> EmbeddedMigrations()
    {
        var assembly = typeof(MigrationRunner).Assembly;
        return assembly.GetManifestResourceNames()
            .Select(resource => (resource, match: MigrationName().Match(resource)))
            .Where(x => x.match.Success)
            .Select(x => new Migration(int.Parse(x.match.Groups["version"].Value, System.Globalization.CultureInfo.InvariantCulture), x.match.Groups["name"].Value, ReadResource(assembly, x.resource)))
            .OrderBy(m => m.Version)
            .ToList();
    }

    public async Task<int> MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await ExecuteAsync(connection, LockSql, cancellationToken);
        try
        {
            await ExecuteAsync(connection, CreateVersionTableSql, cancellationToken);
            var applied = await AppliedVersionsAsync(connection, cancellationToken);
            var pending = EmbeddedMigrations().Where(m => !applied.Contains(m.Version)).ToList();
            foreach (var migration in pending)
            {
                await ApplyAsync(connection, migration, cancellationToken);
            }

            foreach (var data in dataMigrations ?? [])
            {
                await data.RunAsync(connection, cancellationToken);
            }

            return pending.Count;
        }
        finally
        {
            await ExecuteAsync(connection, UnlockSql, CancellationToken.None);
        }
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "Scripts are embedded resources of this assembly, not input.")]
    private async Task ApplyAsync(NpgsqlConnection connection, Migration migration, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var script = new NpgsqlCommand(migration.Sql, connection, transaction))
        {
            await script.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var record = new NpgsqlCommand("INSERT INTO schema_versions (version, name) VALUES ($1, $2)", connection, transaction))
        {
            record.Parameters.Add(new NpgsqlParameter { Value = migration.Version });
            record.Parameters.Add(new NpgsqlParameter { Value = migration.Name });
            await record.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Applied migration {Version} {Name}", migration.Version, migration.Name);
    }

    private static async Task<HashSet<int>> AppliedVersionsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT version FROM schema_versions", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var versions = new HashSet<int>();
        while (await reader.ReadAsync(cancellationToken))
        {
            versions.Add(reader.GetInt32(0));
        }

        return versions;
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "Only the constant statements above.")]
    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string ReadResource(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"Migrations\.(?<version>\d{3})_(?<name>[A-Za-z0-9_]+)\.sql$")]
    private static partial Regex MigrationName();
}

public sealed record Migration(int Version, string Name, string Sql);
