using System.Net;
using System.Net.Sockets;
using Nms.Plugins.Snmp.Codec;
using Xunit;

namespace Nms.Plugins.Tests;

/// <summary>The client against a scripted agent on loopback that misbehaves on purpose.</summary>
public sealed class SessionTests
{
    private static readonly ObjectIdentifier SysName = ObjectIdentifier.Parse("1.3.6.1.2.1.1.5.0");

    [Fact]
    public async Task Garbage_and_mismatched_request_ids_are_skipped_until_the_real_answer()
    {
        using var agent = ScriptedAgent.V2c(request =>
        [
            Convert.FromHexString("DEADBEEF"),
            Respond(request, request.Pdu.RequestId + 1, "stale"),
            Respond(request, request.Pdu.RequestId, "router-1"),
        ]);
        using var session = agent.Session();
        var answer = await session.GetAsync([SysName], CancellationToken.None);
        Assert.Equal("router-1", answer[0].Value.AsText());
    }

    [Fact]
    public async Task Only_garbage_fails_the_request_as_malformed_without_crashing()
    {
        using var agent = ScriptedAgent.V2c(_ => [Convert.FromHexString("3084FFFFFFFF0201"), Convert.FromHexString("300302010A")]);
        using var session = agent.Session();
        var error = await Assert.ThrowsAsync<SnmpException>(() => session.GetAsync([SysName], CancellationToken.None));
        Assert.Contains("malformed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Error_status_is_reported_by_name()
    {
        using var agent = ScriptedAgent.V2c(request =>
        [
            new CommunityMessage(request.Community, request.Pdu with { Type = PduType.Response, ErrorStatus = 5, ErrorIndex = 1 }).Encode(),
        ]);
        using var session = agent.Session();
        var error = await Assert.ThrowsAsync<SnmpErrorStatusException>(() => session.GetAsync([SysName], CancellationToken.None));
        Assert.Contains("genErr", error.Message, StringComparison.Ordinal);
        Assert.Equal((5, 1), (error.Status, error.Index));
    }

    [Fact]
    public async Task A_silent_agent_is_retried_then_times_out()
    {
        using var agent = ScriptedAgent.V2c(_ => []);
        using var session = agent.Session(retries: 2);
        await Assert.ThrowsAsync<SnmpTimeoutException>(() => session.GetAsync([SysName], CancellationToken.None));
        Assert.Equal(3, await agent.ReceivedAtLeastAsync(3, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_walk_stops_at_end_of_mib_view_and_at_the_subtree_end()
    {
        var column1 = ObjectIdentifier.Parse("1.3.6.1.2.1.2.2.1.8");
        var column2 = ObjectIdentifier.Parse("1.3.6.1.2.1.2.2.1.10");
        using var agent = ScriptedAgent.V2c(request =>
        {
            // Two rows for column 1 then it leaves the subtree; column 2 hits endOfMibView after one row.
            var first = request.Pdu.VarBinds[0].Oid;
            VarBind[] rows = first == column1
                ?
                [
                    new(column1.Append(1), new SnmpValue(SnmpType.Integer, Integer: 1)),
                    new(column2.Append(1), new SnmpValue(SnmpType.Counter32, Unsigned: 10)),
                    new(column1.Append(2), new SnmpValue(SnmpType.Integer, Integer: 2)),
                    new(column2.Append(1), new SnmpValue(SnmpType.EndOfMibView)),
                    new(ObjectIdentifier.Parse("1.3.6.1.2.1.2.2.1.9.1"), new SnmpValue(SnmpType.Integer, Integer: 0)),
                    new(column2.Append(1), new SnmpValue(SnmpType.EndOfMibView)),
                ]
                : [];
            return [new CommunityMessage(request.Community, new Pdu(PduType.Response, request.Pdu.RequestId, 0, 0, rows)).Encode()];
        });
        using var session = agent.Session();
        var walked = await session.WalkColumnsAsync([column1, column2], CancellationToken.None);
        Assert.Equal([1L, 2L], walked[0].Select(v => v.Value.Integer));
        Assert.Equal([10UL], walked[1].Select(v => v.Value.Unsigned));
    }

    [Fact]
    public async Task An_agent_that_loops_backwards_is_an_error_not_a_hang()
    {
        var column = ObjectIdentifier.Parse("1.3.6.1.2.1.2.2.1.8");
        using var agent = ScriptedAgent.V2c(request =>
        [
            new CommunityMessage(request.Community, new Pdu(PduType.Response, request.Pdu.RequestId, 0, 0,
                [new VarBind(column.Append(5), new SnmpValue(SnmpType.Integer, Integer: 1)), new VarBind(column.Append(4), new SnmpValue(SnmpType.Integer, Integer: 1))])).Encode(),
        ]);
        using var session = agent.Session();
        var error = await Assert.ThrowsAsync<SnmpException>(() => session.WalkColumnsAsync([column], CancellationToken.None));
        Assert.Contains("not increasing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetNext_and_GetBulk_with_non_repeaters_follow_the_agent_order()
    {
        using var agent = new MiniAgent(
        [
            ("1.3.6.1.2.1.1.3.0", MiniAgent.Ticks(42)),
            ("1.3.6.1.2.1.1.5.0", MiniAgent.Text("box")),
            ("1.3.6.1.2.1.2.2.1.8.1", MiniAgent.Int(1)),
            ("1.3.6.1.2.1.2.2.1.8.2", MiniAgent.Int(2)),
        ]);
        using var session = new SnmpSession(new IPEndPoint(IPAddress.Loopback, agent.Port), new CommunityCredentials("public"), new SnmpSessionOptions(TimeSpan.FromSeconds(1)));
        var next = await session.GetNextAsync([ObjectIdentifier.Parse("1.3.6.1.2.1.1.3.0")], CancellationToken.None);
        Assert.Equal(SysName, next[0].Oid);

        var bulk = await session.GetBulkAsync(1, 3, [ObjectIdentifier.Parse("1.3.6.1.2.1.1"), ObjectIdentifier.Parse("1.3.6.1.2.1.2.2.1.8")], CancellationToken.None);
        Assert.Equal(["1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.2.2.1.8.1", "1.3.6.1.2.1.2.2.1.8.2", "1.3.6.1.2.1.2.2.1.8.2"], bulk.Select(v => v.Oid.ToString()));
        Assert.Equal(SnmpType.EndOfMibView, bulk[^1].Value.Type);
    }

    [Fact]
    public async Task V1_get_reads_present_objects_marks_absent_ones_and_asks_again_where_a_child_could_hide_one()
    {
        using var agent = new MiniAgent(
        [
            ("1.3.6.1.2.1.1.5.0", MiniAgent.Text("box")),
            ("1.3.6.1.9.1.0.5", MiniAgent.Int(5)),
            ("1.3.6.1.9.1.1", MiniAgent.Int(11)),
        ]);
        using var session = new SnmpSession(new IPEndPoint(IPAddress.Loopback, agent.Port), new CommunityCredentials("public", CommunityVersion.V1), new SnmpSessionOptions(TimeSpan.FromSeconds(1)));
        var values = await session.GetAsync(
            [SysName, ObjectIdentifier.Parse("1.3.6.1.2.1.1.6.0"), ObjectIdentifier.Parse("1.3.6.1.9.1.1"), ObjectIdentifier.Parse("1.3.6.1.99.0")], CancellationToken.None);
        Assert.Equal("box", values[0].Value.AsText());
        Assert.Equal(SnmpType.NoSuchObject, values[1].Value.Type);
        Assert.Equal(11, values[2].Value.Integer);
        Assert.Equal(SnmpType.NoSuchObject, values[3].Value.Type);
        // One GETNEXT, one more after noSuchName at the MIB's end, one GET for the object behind 1.3.6.1.9.1.0.5.
        Assert.Equal([PduType.Get, PduType.GetNext, PduType.GetNext], agent.Requests.Order());
    }

    [Fact]
    public async Task A_closed_port_fails_fast_as_unreachable()
    {
        var port = Nms.Testing.FreePort.Udp();
        using var session = new SnmpSession(new IPEndPoint(IPAddress.Loopback, port), new CommunityCredentials("public"), new SnmpSessionOptions(TimeSpan.FromSeconds(5)));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<SnmpException>(() => session.GetAsync([SysName], CancellationToken.None));
        Assert.Contains("unreachable", error.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), clock.Elapsed.ToString());
    }

    private static byte[] Respond(CommunityMessage request, int requestId, string value) =>
        new CommunityMessage(request.Community, new Pdu(PduType.Response, requestId, 0, 0,
            [new VarBind(request.Pdu.VarBinds[0].Oid, new SnmpValue(SnmpType.OctetString, Bytes: System.Text.Encoding.UTF8.GetBytes(value)))])).Encode();
}
