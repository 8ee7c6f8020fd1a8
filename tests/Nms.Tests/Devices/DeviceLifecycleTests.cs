using System.Net;
using Nms.Core.Devices;
using Nms.Tests.Infrastructure;
using Npgsql;

namespace Nms.Tests.Devices;

/// <summary>The lifecycle owner on real PostgreSQL: every operation in a transaction of the test's own.</summary>
public sealed class DeviceLifecycleTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 1, 8, 0, 0, TimeSpan.Zero);

    private TestDatabase database = null!;

    private NpgsqlDataSource Db => database.DataSource;

    public async Task InitializeAsync() => database = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await database.DisposeAsync();

    private static DeviceProvision Device(string ip, int interval = 60) => new(IPAddress.Parse(ip), 161, "snmp", interval);

    private Task<DateTimeOffset?> DueAsync(long id) => TimeAsync("SELECT next_due_at FROM poll_schedule WHERE device_id = $1", id);

    private Task<DateTimeOffset?> ReactivatedAtAsync(long id) => TimeAsync("SELECT reactivated_at FROM devices WHERE id = $1", id);

    private async Task<DateTimeOffset?> TimeAsync(string sql, long id)
    {
        await using var command = Db.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() && !reader.IsDBNull(0) ? reader.GetFieldValue<DateTimeOffset>(0) : null;
    }

    [Fact]
    public async Task Bulk_provisioning_creates_the_new_devices_due_within_their_interval_and_leaves_known_ones_alone()
    {
        var known = await Db.AddDeviceAsync(Device("127.40.0.1"), now: T0);
        var knownDue = await DueAsync(known);

        var created = await Db.InTransactionAsync((connection, transaction) => DeviceLifecycle.ProvisionManyAsync(
            connection, transaction, [Device("127.40.0.1", 10), Device("127.40.0.2", 10), Device("127.40.0.3", 10), Device("127.40.0.3", 10)], T0.AddHours(1), CancellationToken.None));

        Assert.Equal(["127.40.0.2", "127.40.0.3"], created.Select(d => d.Ip).Order());
        Assert.Equal(knownDue, await DueAsync(known));
        Assert.Equal(60, await database.ScalarAsync<int>("SELECT poll_interval_seconds FROM devices WHERE id = $1", known));
        foreach (var device in created)
        {
            Assert.InRange((await DueAsync(device.DeviceId))!.Value, T0.AddHours(1), T0.AddHours(1).AddSeconds(10));
        }
    }

    [Fact]
    public async Task Single_provisioning_at_a_known_address_returns_the_existing_device()
    {
        var first = await Db.InTransactionAsync((c, t) => DeviceLifecycle.ProvisionAsync(c, t, Device("127.40.1.1"), T0, CancellationToken.None));
        var second = await Db.InTransactionAsync((c, t) => DeviceLifecycle.ProvisionAsync(c, t, Device("127.40.1.1"), T0, CancellationToken.None));

        Assert.Equal((first.DeviceId, true, false), (second.DeviceId, first.Created, second.Created));
    }

    [Fact]
    public async Task A_device_is_scheduled_exactly_while_it_is_active()
    {
        var id = await Db.AddDeviceAsync(Device("127.40.2.1"), now: T0);
        Assert.NotNull(await DueAsync(id));

        await Db.DeactivateByOperatorAsync(id, now: T0.AddMinutes(1));
        Assert.Null(await DueAsync(id));

        await Db.ReactivateByOperatorAsync(id, 60, T0.AddMinutes(2));
        Assert.InRange((await DueAsync(id))!.Value, T0.AddMinutes(2), T0.AddMinutes(3));

        await Db.InTransactionAsync((c, t) => DeviceLifecycle.DeactivateForFailuresAsync(c, t, id, "poll", "timeout", T0.AddMinutes(4), T0.AddMinutes(5), CancellationToken.None));
        Assert.Null(await DueAsync(id));
        Assert.Equal("inactive", await database.ScalarAsync<string>("SELECT status FROM devices WHERE id = $1", id));
    }

    [Fact]
    public async Task Both_reactivations_set_reactivated_at_so_failures_from_before_it_do_not_count()
    {
        var byOperator = await Db.AddDeviceAsync(Device("127.40.3.1"), now: T0);
        var byProbe = await Db.AddDeviceAsync(Device("127.40.3.2"), now: T0);
        foreach (var id in new[] { byOperator, byProbe })
        {
            await Db.InTransactionAsync((c, t) => DeviceLifecycle.DeactivateForFailuresAsync(c, t, id, "poll", "timeout", T0, T0.AddMinutes(1), CancellationToken.None));
        }

        await Db.ReactivateByOperatorAsync(byOperator, 60, T0.AddMinutes(10));
        var probed = await Db.InTransactionAsync((c, t) => DeviceLifecycle.ReactivateByProbeAsync(c, t, byProbe, T0, "recovery probe: answered", T0.AddMinutes(11), CancellationToken.None));

        Assert.True(probed);
        Assert.Equal(T0.AddMinutes(10), await ReactivatedAtAsync(byOperator));
        Assert.Equal(T0.AddMinutes(11), await ReactivatedAtAsync(byProbe));
        Assert.Equal(T0.AddMinutes(11), await DueAsync(byProbe));
    }

    [Fact]
    public async Task Probe_reactivation_changes_nothing_once_the_device_left_the_deactivation_it_claimed()
    {
        var id = await Db.AddDeviceAsync(Device("127.40.4.1"), now: T0);
        await Db.InTransactionAsync((c, t) => DeviceLifecycle.DeactivateForFailuresAsync(c, t, id, "poll", "timeout", T0, T0.AddMinutes(1), CancellationToken.None));
        await Db.ReactivateByOperatorAsync(id, 60, T0.AddMinutes(2));
        await Db.InTransactionAsync((c, t) => DeviceLifecycle.DeactivateForFailuresAsync(c, t, id, "ping", "no reply", T0.AddMinutes(3), T0.AddMinutes(4), CancellationToken.None));

        var reactivated = await Db.InTransactionAsync((c, t) => DeviceLifecycle.ReactivateByProbeAsync(c, t, id, T0, "stale claim", T0.AddMinutes(5), CancellationToken.None));

        Assert.False(reactivated);
        Assert.Equal(("inactive", "ping"), (await database.ScalarAsync<string>("SELECT status FROM devices WHERE id = $1", id),
            await database.ScalarAsync<string>("SELECT deactivation_reason FROM devices WHERE id = $1", id)));
        Assert.Null(await DueAsync(id));
    }

    [Fact]
    public async Task Given_back_deadlines_return_unless_moved_earlier_since()
    {
        var kept = await Db.AddDeviceAsync(Device("127.40.5.1"), dueAt: T0.AddSeconds(60), now: T0);
        var movedEarlier = await Db.AddDeviceAsync(Device("127.40.5.2"), dueAt: T0.AddSeconds(-5), now: T0);

        await Db.InTransactionAsync((c, t) => DeviceLifecycle.GiveBackDeadlinesAsync(c, t, [(kept, T0), (movedEarlier, T0)], CancellationToken.None));

        Assert.Equal(T0, await DueAsync(kept));
        Assert.Equal(T0.AddSeconds(-5), await DueAsync(movedEarlier));
    }
}
