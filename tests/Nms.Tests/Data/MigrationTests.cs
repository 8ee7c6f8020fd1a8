using Microsoft.Extensions.Logging.Abstractions;
using Nms.Core.Data;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Data;

public sealed class MigrationTests
{
    [Fact]
    public async Task Migrating_twice_applies_every_script_once_and_changes_nothing_the_second_time()
    {
        await using var database = await TestDatabase.CreateAsync(migrated: false);
        var runner = new MigrationRunner(database.DataSource, NullLogger<MigrationRunner>.Instance);

        var first = await runner.MigrateAsync(CancellationToken.None);
        var second = await runner.MigrateAsync(CancellationToken.None);

        Assert.Equal(MigrationRunner.EmbeddedMigrations().Count, first);
        Assert.Equal(0, second);
        Assert.Equal(first, (int)await database.ScalarAsync<long>("SELECT count(*) FROM schema_versions"));
    }

    [Fact]
    public async Task Instances_starting_at_once_do_not_race()
    {
        await using var database = await TestDatabase.CreateAsync(migrated: false);

        var applied = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            new MigrationRunner(database.DataSource, NullLogger<MigrationRunner>.Instance).MigrateAsync(CancellationToken.None)));

        Assert.Equal(MigrationRunner.EmbeddedMigrations().Count, applied.Sum());
        Assert.Equal(applied.Sum(), (int)await database.ScalarAsync<long>("SELECT count(*) FROM schema_versions"));
    }

    [Fact]
    public void Embedded_migrations_have_unique_increasing_versions()
    {
        var versions = MigrationRunner.EmbeddedMigrations().Select(m => m.Version).ToList();

        Assert.NotEmpty(versions);
        Assert.Equal(versions.Distinct().Order(), versions);
    }
}
