using Npgsql;

namespace Nms.Core.Data;

/// <summary>
/// A data move too large for one migration transaction: run by <see cref="MigrationRunner"/> after the
/// SQL migrations, on its connection and under its advisory lock, at every start. It commits in
/// batches, so a crash resumes where it stopped, and does nothing once done.
/// </summary>
public interface IDataMigration
{
    string Name { get; }

    Task RunAsync(NpgsqlConnection connection, CancellationToken cancellationToken);
}
