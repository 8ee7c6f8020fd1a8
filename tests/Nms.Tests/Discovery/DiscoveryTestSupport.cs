using System.Diagnostics;
using System.Net;
using Nms.Testing;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Nms.Core.Configuration;
using Nms.Core.Credentials;
using Nms.Core.Data;
using Nms.Core.Discovery;
using Nms.Core.Entities;
using Nms.Tests.Infrastructure;
using Npgsql;

namespace Nms.Tests.Discovery;

/// <summary>
/// The app (the lead's <see cref="TestApp"/>: local host, own port, database and queue names, real
/// PostgreSQL and Azurite) with the discovery tests' helpers: start and wait for runs through the
/// API, and write credential and discovery profiles with plain SQL (no dependency on the entities code).
/// </summary>
public sealed class DiscoveryHost : IAsyncDisposable
{
    private readonly TestApp app;

    private DiscoveryHost(TestApp app) => this.app = app;

    public HttpClient Client => app.Client;

    public HttpClient Anonymous => app.Anonymous;

    public IServiceProvider Services => app.Services;

    public CapturedLogs Logs => app.Logs;

    public NpgsqlDataSource Db => Services.GetRequiredService<NmsDataSources>().Api;

    public string DiscoveryQueue => app.Queues.Discovery;

    public static async Task<DiscoveryHost> StartAsync(string pluginsDirectory, IDictionary<string, string?>? overrides = null,
        Action<IServiceCollection>? configureServices = null)
    {
        var app = await TestApp.StartAsync(options =>
        {
            options.ConfigureServices = configureServices;
            options.Settings["Nms:Plugins:Directory"] = pluginsDirectory;
            options.Settings["Nms:Discovery:BatchSize"] = "32";
            foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
            {
                options.Settings[key.Replace("__", ":", StringComparison.Ordinal)] = value;
            }
        });
        return new DiscoveryHost(app);
    }

    public ValueTask DisposeAsync() => app.DisposeAsync();

    // ------------------------------------------------------------------ API

    public async Task<HttpResponseMessage> StartRunAsync(long profileId) =>
        await Client.PostAsync($"discovery_profiles/{profileId}/run", null);

    /// <summary>Starts a run and returns its id; fails the test unless the answer is 202 with a Location.</summary>
    public async Task<Guid> StartRunOkAsync(long profileId)
    {
        using var response = await StartRunAsync(profileId);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {body}");
        var run = JsonSerializer.Deserialize<DiscoveryRunView>(body, NmsJson.Api)!;
        Assert.Equal($"/api/discovery_runs/{run.Id}", response.Headers.Location?.OriginalString);
        return run.Id;
    }

    public async Task<DiscoveryRunView> GetRunAsync(Guid runId)
    {
        using var response = await Client.GetAsync($"discovery_runs/{runId}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<DiscoveryRunView>(body, NmsJson.Api)!;
    }

    /// <summary>Polls the run through the API until it completes.</summary>
    public async Task<DiscoveryRunView> WaitForCompletionAsync(Guid runId, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        while (true)
        {
            var run = await GetRunAsync(runId);
            if (run.Status == "completed")
            {
                return run;
            }

            Assert.True(deadline.Elapsed < limit, $"run {runId} still {run.Status} after {limit}: {run.BatchesDone}/{run.BatchesTotal} batches");
            await Task.Delay(150);
        }
    }

    // ------------------------------------------------------------------ SQL (no dependency on the entities code)

    /// <summary>An SNMP v2c credential profile, sealed as the app stores it.</summary>
    public async Task<long> InsertSnmpCredentialAsync(string name, string community)
    {
        var sealedSecret = Services.GetRequiredService<CredentialReader>().Seal(new CredentialSecretFields(Community: community));
        await using var command = Db.CreateCommand("""
            INSERT INTO credential_profiles (name, protocol, settings, secret_ciphertext, secret_key_id, created_at, updated_at)
            VALUES ($1, 'snmp_v2c', '{}', $2, $3, now(), now())
            RETURNING id
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        command.Parameters.Add(new NpgsqlParameter { Value = sealedSecret.Ciphertext });
        command.Parameters.Add(new NpgsqlParameter { Value = sealedSecret.KeyId });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task<long> InsertProfileAsync(string name, string target, int port, IReadOnlyList<long> credentialIds,
        string plugin = "snmp", int timeoutMs = 300, bool pingPrecheck = false, int pollIntervalSeconds = 60)
    {
        await using var connection = await Db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        long id;
        await using (var command = new NpgsqlCommand("""
            INSERT INTO discovery_profiles (name, target, port, plugin, ping_precheck, timeout_ms, poll_interval_seconds, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, now(), now())
            RETURNING id
            """, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = name });
            command.Parameters.Add(new NpgsqlParameter { Value = target });
            command.Parameters.Add(new NpgsqlParameter { Value = port });
            command.Parameters.Add(new NpgsqlParameter { Value = plugin });
            command.Parameters.Add(new NpgsqlParameter { Value = pingPrecheck });
            command.Parameters.Add(new NpgsqlParameter { Value = timeoutMs });
            command.Parameters.Add(new NpgsqlParameter { Value = pollIntervalSeconds });
            id = (long)(await command.ExecuteScalarAsync())!;
        }

        for (var position = 0; position < credentialIds.Count; position++)
        {
            await using var link = new NpgsqlCommand(
                "INSERT INTO discovery_profile_credentials (discovery_profile_id, position, credential_profile_id) VALUES ($1, $2, $3)",
                connection, transaction);
            link.Parameters.Add(new NpgsqlParameter { Value = id });
            link.Parameters.Add(new NpgsqlParameter { Value = position });
            link.Parameters.Add(new NpgsqlParameter { Value = credentialIds[position] });
            await link.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
        return id;
    }

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var command = Db.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task ExecuteAsync(string sql, params object[] parameters)
    {
        await using var command = Db.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        await command.ExecuteNonQueryAsync();
    }

    public async Task<List<DeviceRow>> DevicesInAsync(string cidr)
    {
        await using var command = Db.CreateCommand("""
            SELECT d.id, host(d.ip), d.port, d.hostname, d.description, d.plugin, d.credential_profile_id, d.discovery_profile_id,
                   d.poll_interval_seconds, d.status, d.created_at, s.next_due_at
            FROM devices d LEFT JOIN poll_schedule s ON s.device_id = d.id
            WHERE d.ip << $1::inet
            ORDER BY d.ip
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = cidr });
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<DeviceRow>();
        while (await reader.ReadAsync())
        {
            rows.Add(new DeviceRow(reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetInt64(6), reader.IsDBNull(7) ? null : reader.GetInt64(7),
                reader.GetInt32(8), reader.GetString(9), reader.GetFieldValue<DateTimeOffset>(10),
                reader.IsDBNull(11) ? null : reader.GetFieldValue<DateTimeOffset>(11)));
        }

        return rows;
    }
}

public sealed record DeviceRow(long Id, string Ip, int Port, string? Hostname, string? Description, string Plugin, long? CredentialId,
    long? DiscoveryProfileId, int PollIntervalSeconds, string Status, DateTimeOffset CreatedAt, DateTimeOffset? NextDueAt);

/// <summary>
/// One snmpd answering SNMP v2c on a UDP port on each of the given loopback addresses, nothing on
/// any other: discovery's view of the shared <see cref="SnmpdProcess"/>.
/// </summary>
public sealed class SnmpAgents : IDisposable
{
    private readonly SnmpdProcess process;

    public SnmpAgents(IReadOnlyList<string> addresses, string community, string sysName = "nms-disc-agent")
    {
        Addresses = addresses;
        var options = new SnmpdOptions { Addresses = addresses, Community = community, SysName = sysName, SysDescr = "NMS discovery test agent" };
        // Blocking here keeps the constructor the fixture's callers use; the start itself is async throughout.
        process = SnmpdProcess.StartAsync(options).GetAwaiter().GetResult();
    }

    public IReadOnlyList<string> Addresses { get; }

    public int Port => process.Port;

    public void Dispose() => process.Dispose();
}

