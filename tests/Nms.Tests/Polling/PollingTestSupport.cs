using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Nms.Core.Configuration;
using Nms.Core.Data;
using Nms.Core.Devices;
using Nms.Core.Queues;
using Nms.Testing;
using Nms.Tests.Infrastructure;
using Npgsql;

namespace Nms.Tests.Polling;

/// <summary>
/// A fresh migrated database (<see cref="TestDatabase"/>) with the app's two pools, plus the helpers
/// polling tests need to put devices in it (through the lifecycle owner, without the entities API).
/// </summary>
public sealed class PollingDatabase : IAsyncLifetime
{
    private TestDatabase? database;

    public NmsDataSources Data { get; private set; } = null!;

    public string ConnectionString => database!.ConnectionString;

    public TestDatabase Database => database!;

    public async Task InitializeAsync()
    {
        database = await TestDatabase.CreateAsync();
        Data = NmsDataSources.Create(database.ConnectionString, database.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await Data.DisposeAsync();
        await database!.DisposeAsync();
    }

    /// <summary>Provisions a device due at <paramref name="dueAt"/>, then deactivates it unless active. Returns its id.</summary>
    public async Task<long> InsertDeviceAsync(string ip, int port, string plugin, DateTimeOffset dueAt, int intervalSeconds = 60, string status = "active", long? credentialId = null, string? hostKey = null)
    {
        var id = await Data.Api.AddDeviceAsync(ip, port, plugin, dueAt, intervalSeconds, credentialId, hostKey);
        if (status != "active")
        {
            await Data.Api.DeactivateByOperatorAsync(id);
        }

        return id;
    }

    /// <summary>Provisions <paramref name="count"/> devices on 127.10.x.y in one transaction, all due at <paramref name="dueAt"/>.</summary>
    public Task InsertManyDevicesAsync(int count, string plugin, DateTimeOffset dueAt, int intervalSeconds = 60) =>
        Data.Api.AddDevicesAsync(
            Enumerable.Range(1, count).Select(i => new DeviceProvision(new IPAddress([127, 10, (byte)(i / 256), (byte)(i % 256)]), 161, plugin, intervalSeconds)).ToList(),
            dueAt);

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var command = Data.Api.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task ExecuteAsync(string sql, params object[] parameters)
    {
        await using var command = Data.Api.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>Captures what would go on the queues, as the JSON the real sender writes.</summary>
public sealed class RecordingQueueSender : IQueueSender
{
    public ConcurrentQueue<(string Queue, byte[] Json)> Sent { get; } = new();

    public Task SendAsync<T>(string queueName, T message, CancellationToken cancellationToken)
    {
        Sent.Enqueue((queueName, JsonSerializer.SerializeToUtf8Bytes(message, NmsJson.Queue)));
        return Task.CompletedTask;
    }

    public Task SendLaterAsync<T>(string queueName, T message, TimeSpan visibilityDelay, CancellationToken cancellationToken) =>
        SendAsync(queueName, message, cancellationToken);

    public Task SendJsonAsync(string queueName, BinaryData json, CancellationToken cancellationToken)
    {
        Sent.Enqueue((queueName, json.ToArray()));
        return Task.CompletedTask;
    }

    public IReadOnlyList<T> Messages<T>(string queue) =>
        Sent.Where(m => m.Queue == queue).Select(m => JsonSerializer.Deserialize<T>(m.Json, NmsJson.Queue)!).ToList();
}

/// <summary>A private snmpd on a free UDP port of every loopback address (community <c>public</c>), and snmpwalk to read it.</summary>
public sealed class SnmpAgent : IDisposable
{
    private readonly SnmpdProcess process;

    public SnmpAgent()
    {
        // Every address (0.0.0.0), so each 127.x.y.z a test provisions answers; blocking keeps the callers' constructor.
        process = SnmpdProcess.StartAsync(new SnmpdOptions { Addresses = [] }).GetAwaiter().GetResult();
    }

    public int Port => process.Port;

    /// <summary>Column values by row index, e.g. ifOperStatus (1.3.6.1.2.1.2.2.1.8) → {"1": 1, "2": 2}.</summary>
    public async Task<IReadOnlyDictionary<string, double>> WalkAsync(string ip, string columnOid)
    {
        var info = new ProcessStartInfo("snmpwalk") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-v2c", "-c", "public", "-On", "-OQ", "-Oe", "-t", "1", $"{ip}:{Port}", columnOid })
        {
            info.ArgumentList.Add(arg);
        }

        // -On -OQ -Oe prints ".oid = value" with numeric values; the suffix after the column is the row index.
        using var walk = Process.Start(info)!;
        var output = await walk.StandardOutput.ReadToEndAsync();
        await walk.WaitForExitAsync();
        var rows = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(" = ", 2);
            var prefix = "." + columnOid + ".";
            if (parts.Length == 2 && parts[0].StartsWith(prefix, StringComparison.Ordinal)
                && double.TryParse(parts[1].Trim(), System.Globalization.CultureInfo.InvariantCulture, out var value))
            {
                rows[parts[0][prefix.Length..]] = value;
            }
        }

        return rows;
    }

    public void Dispose() => process.Dispose();
}
