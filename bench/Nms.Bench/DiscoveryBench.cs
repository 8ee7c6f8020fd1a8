using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nms.Core.Configuration;
using Nms.Core.Credentials;
using Nms.Core.Data;
using Nms.Core.Discovery;
using Nms.Core.Entities;
using Nms.Functions.LocalHost;
using Nms.Testing;
using Npgsql;

namespace Nms.Bench;

/// <summary>
/// <c>./nms bench discovery [--prefix 20|16] [--precheck off|on|both] [--fping-floor] [--timeout-ms 500]
/// [--batch-size 64] [--icmp-silent on|off] [--max-minutes 15] [--plugins DIR] [--null-plugin]</c>: time a whole discovery run of a
/// loopback /20 or /16 with 1% of its addresses running an SNMP agent (one snmpd), through the real
/// app on the local host (HTTP API, Azurite queue, batch worker, plugin, PostgreSQL). With
/// <c>--icmp-silent on</c> (default when nft works) addresses without an agent are silent, as empty
/// addresses are on a real network: no ping reply and no ICMP port unreachable for the SNMP probe,
/// which then waits its timeout. Otherwise every 127.x address answers ping (the pre-check can only
/// cost time) and refuses SNMP at once (flattering the run without it). <c>--fping-floor</c> times <c>fping -g</c> over the same range.
/// Services: NMS_TEST_PG_ADMIN and NMS_TEST_AZURITE (as ./nms test exports them), or the
/// PostgreSQL and Azurite of <c>./nms start</c> from local.settings.json.
/// </summary>
public static class DiscoveryBench
{
    private const string Community = "bench-community";

    public static async Task<int> RunAsync(string[] args)
    {
        var options = BenchOptions.Parse(args);
        var (pg, azurite) = BenchSupport.Services();
        var prefixLength = options.PrefixLength;
        var network = prefixLength == 16 ? "127.91.0.0" : "127.90.0.0";
        var cidr = $"{network}/{prefixLength}";
        var all = DiscoveryTarget.Parse(cidr, 1 << 20).Addresses().Select(a => a.ToString()).ToList();
        var agents = all.Where((_, i) => i % 100 == 50).ToList();
        Console.WriteLine($"discovery bench: {cidr}, {all.Count} addresses, {agents.Count} agents (1%), timeout_ms {options.TimeoutMs}, batch size {options.BatchSize}, {Environment.ProcessorCount} cores");

        if (options.FpingFloor)
        {
            using var silence = options.IcmpSilent ? new IcmpSilence(cidr, agents) : null;
            foreach (var interval in new[] { 1, 10 })
            {
                var floor = FpingSweep(cidr, options, interval);
                Console.WriteLine($"| fping -g {cidr} -r 1 -t {options.ReachabilityTimeoutMs} -i {interval} (floor) | {floor.Elapsed.TotalSeconds:F1} s | {floor.Alive} answered |");
            }
        }

        if (options.Precheck.Count == 0)
        {
            return 0;
        }

        var plugins = Directory.CreateTempSubdirectory("nms-bench-plugins-").FullName;
        var pluginKind = options.NullPlugin ? InstallNullPlugin(plugins) : InstallSnmpPlugin(plugins, options.PluginsDirectory);
        Console.WriteLine($"snmp plugin: {pluginKind}");
        var database = "nms_bench_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5));
        await BenchSupport.ExecuteAdminAsync(pg, $"CREATE DATABASE {database}");
        try
        {
            using var snmpd = new Snmpd(agents, Community);
            using var silence = options.IcmpSilent ? new IcmpSilence(cidr, agents, snmpd.Port) : null;
            var connection = new NpgsqlConnectionStringBuilder(pg) { Database = database, MaxPoolSize = 40 }.ConnectionString;
            var adminKey = "bench_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            var port = BenchSupport.FreeTcpPort();
            var host = new LocalHostOptions
            {
                Urls = $"http://127.0.0.1:{port}",
                LocalSettingsPath = Path.Combine(plugins, "none.json"),
                ConfigureLogging = logging => logging.SetMinimumLevel(LogLevel.Warning),
            };
            var settings = BenchSupport.AppSettings(connection, azurite, adminKey);
            settings["Nms:Plugins:Directory"] = plugins;
            settings["Nms:Reachability:TimeoutMilliseconds"] = options.ReachabilityTimeoutMs.ToString(CultureInfo.InvariantCulture);
            settings["Nms:Reachability:Retries"] = "1";
            settings["Nms:Discovery:BatchSize"] = options.BatchSize.ToString(CultureInfo.InvariantCulture);
            foreach (var (key, value) in settings)
            {
                host.Settings[key] = value;
            }

            // Only the discovery functions: other features' timers would add noise.
            foreach (var timer in FunctionCatalog.Discover(host.FunctionAssemblies).Where(f => f.Kind == TriggerKind.Timer))
            {
                host.Settings[$"AzureWebJobs.{timer.Name}.Disabled"] = "true";
            }

            await using var app = LocalFunctionsHost.Build(host);
            await app.StartAsync();
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/api/"), Timeout = TimeSpan.FromMinutes(5) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
            var db = app.Services.GetRequiredService<NmsDataSources>().Api;
            var credential = await InsertCredentialAsync(db, app.Services.GetRequiredService<CredentialReader>());

            foreach (var precheck in options.Precheck)
            {
                await ExecuteAsync(db, "TRUNCATE devices CASCADE");
                var profile = await InsertProfileAsync(db, $"bench-{prefixLength}-{precheck}", cidr, snmpd.Port, credential, options.TimeoutMs, precheck);
                var run = await TimeRunAsync(client, profile, TimeSpan.FromMinutes(options.MaxMinutes));
                var seconds = run.FinishedAt is { } finished ? (finished - run.CreatedAt).TotalSeconds : double.NaN;
                Console.WriteLine(
                    $"| /{prefixLength} ({run.Targets} addresses), ping pre-check {(precheck ? "on" : "off")} | {seconds:F1} s | {run.Targets / seconds:F0} addr/s | " +
                    $"{run.Status}: {run.Provisioned} provisioned, {run.Failed} failed, {run.BatchesDone}/{run.BatchesTotal} batches |");
            }

            await app.StopAsync();
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await BenchSupport.ExecuteAdminAsync(pg, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
            Directory.Delete(plugins, recursive: true);
        }

        return 0;
    }

    private static async Task<DiscoveryRunView> TimeRunAsync(HttpClient client, long profile, TimeSpan limit)
    {
        using var started = await client.PostAsync($"discovery_profiles/{profile}/run", null);
        var body = await started.Content.ReadAsStringAsync();
        if (!started.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"run not started: {(int)started.StatusCode} {body}");
        }

        var run = JsonSerializer.Deserialize<DiscoveryRunView>(body, NmsJson.Api)!;
        var watch = Stopwatch.StartNew();
        while (run.Status != "completed" && watch.Elapsed < limit)
        {
            await Task.Delay(250);
            run = JsonSerializer.Deserialize<DiscoveryRunView>(await client.GetStringAsync($"discovery_runs/{run.Id}"), NmsJson.Api)!;
        }

        return run;
    }

    private static (TimeSpan Elapsed, int Alive) FpingSweep(string cidr, BenchOptions options, int interval)
    {
        var info = new ProcessStartInfo("fping") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-a", "-q", "-g", cidr, "-r", "1", "-t", options.ReachabilityTimeoutMs.ToString(CultureInfo.InvariantCulture), "-i", interval.ToString(CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(argument);
        }

        var watch = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var alive = process.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        _ = stderr.Result;
        process.WaitForExit();
        return (watch.Elapsed, alive);
    }

    /// <summary>Answers nothing at once: what is left is the pipeline (API, queue, worker, process start, database).</summary>
    private static string InstallNullPlugin(string directory)
    {
        var target = Path.Combine(directory, "snmp");
        File.WriteAllText(target, "#!/bin/sh\ncat >/dev/null\nprintf '{\"contract_version\":1,\"results\":[]}'\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return "null (answers nothing, instantly: the pipeline's own cost)";
    }

    private static string InstallSnmpPlugin(string directory, string? pluginsDirectory)
    {
        var real = Path.GetFullPath(Path.Combine(pluginsDirectory ?? Environment.GetEnvironmentVariable("NMS_PLUGINS_DIR") ?? Path.Combine(".nms", "plugins"), "snmp"));
        if (!File.Exists(real))
        {
            throw new InvalidOperationException($"{real} does not exist: run plugins/publish.sh (./nms start does) or pass --plugins DIR.");
        }

        File.CreateSymbolicLink(Path.Combine(directory, "snmp"), real);
        return real;
    }

    private static async Task<long> InsertCredentialAsync(NpgsqlDataSource db, CredentialReader reader)
    {
        var sealedSecret = reader.Seal(new CredentialSecretFields(Community: Community));
        await using var command = db.CreateCommand("""
            INSERT INTO credential_profiles (name, protocol, settings, secret_ciphertext, secret_key_id, created_at, updated_at)
            VALUES ('bench', 'snmp_v2c', '{}', $1, $2, now(), now()) RETURNING id
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = sealedSecret.Ciphertext });
        command.Parameters.Add(new NpgsqlParameter { Value = sealedSecret.KeyId });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<long> InsertProfileAsync(NpgsqlDataSource db, string name, string target, int port, long credential, int timeoutMs, bool precheck)
    {
        await using var command = db.CreateCommand("""
            WITH p AS (
                INSERT INTO discovery_profiles (name, target, port, plugin, ping_precheck, timeout_ms, created_at, updated_at)
                VALUES ($1, $2, $3, 'snmp', $4, $5, now(), now()) RETURNING id
            ), c AS (
                INSERT INTO discovery_profile_credentials (discovery_profile_id, position, credential_profile_id) SELECT id, 0, $6 FROM p
            )
            SELECT id FROM p
            """);
        foreach (var value in new object[] { name, target, port, precheck, timeoutMs, credential })
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task ExecuteAsync(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "Database names are generated here, not input.")]
    private sealed record BenchOptions(int PrefixLength, IReadOnlyList<bool> Precheck, bool FpingFloor, int TimeoutMs, int ReachabilityTimeoutMs,
        int BatchSize, bool IcmpSilent, int MaxMinutes, string? PluginsDirectory, bool NullPlugin)
    {
        public static BenchOptions Parse(string[] args)
        {
            string? Value(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
            int Number(string name, int fallback) => Value(name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;
            var prefix = Number("--prefix", 20);
            if (prefix is not (16 or 20 or 24))
            {
                throw new ArgumentException("--prefix must be 16, 20 or 24");
            }

            var precheck = (Value("--precheck") ?? "both") switch
            {
                "on" => new[] { true },
                "off" => new[] { false },
                "none" => [],
                _ => new[] { false, true },
            };
            var silent = Value("--icmp-silent") is { } s ? s == "on" : IcmpSilence.Available();
            return new BenchOptions(prefix, precheck, args.Contains("--fping-floor"), Number("--timeout-ms", 500), Number("--ping-timeout-ms", 500),
                Number("--batch-size", 64), silent, Number("--max-minutes", 15), Value("--plugins"), args.Contains("--null-plugin"));
        }
    }

    /// <summary>One snmpd answering v2c on one UDP port of every agent address: the shared <see cref="SnmpdProcess"/>.</summary>
    private sealed class Snmpd : IDisposable
    {
        private readonly SnmpdProcess process;

        public Snmpd(IReadOnlyList<string> addresses, string community) =>
            process = SnmpdProcess.StartAsync(new SnmpdOptions
            {
                Addresses = addresses,
                Community = community,
                SysName = "bench-agent",
                SysDescr = "NMS discovery bench agent",
            }).GetAwaiter().GetResult();

        public int Port => process.Port;

        public void Dispose() => process.Dispose();
    }

    /// <summary>
    /// An nftables table that drops ping to every address of the range except the agents, on the
    /// input hook so a ping goes unanswered and fping waits its timeout, as on a real network (a drop
    /// on the output hook would make sendto fail at once and flatter the pre-check).
    /// </summary>
    private sealed class IcmpSilence : IDisposable
    {
        private readonly string table = "nms_bench_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

        public IcmpSilence(string cidr, IReadOnlyList<string> answering, int? udpPort = null)
        {
            Nft("add", "table", "ip", table);
            try
            {
                Nft("add", "set", "ip", table, "answering", "{", "type", "ipv4_addr", ";", "}");
                foreach (var chunk in answering.Chunk(200))
                {
                    Nft(["add", "element", "ip", table, "answering", "{", string.Join(", ", chunk), "}"]);
                }

                Nft("add", "chain", "ip", table, "in", "{", "type", "filter", "hook", "input", "priority", "0", ";", "policy", "accept", ";", "}");
                Nft("add", "rule", "ip", table, "in", "ip", "daddr", cidr, "ip", "daddr", "!=", "@answering", "icmp", "type", "echo-request", "drop");
                if (udpPort is { } port)
                {
                    // And no "port unreachable" either: an empty address is silent, the probe waits its timeout.
                    Nft("add", "rule", "ip", table, "in", "ip", "daddr", cidr, "ip", "daddr", "!=", "@answering", "udp", "dport", port.ToString(CultureInfo.InvariantCulture), "drop");
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public static bool Available()
        {
            try
            {
                using var probe = new IcmpSilence("127.254.254.0/30", ["127.254.254.1"]);
                return true;
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                return false;
            }
        }

        public void Dispose() => Nft("delete", "table", "ip", table);

        private static void Nft(params string[] arguments)
        {
            var info = new ProcessStartInfo("nft") { RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            using var process = Process.Start(info)!;
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"nft failed: {error}");
            }
        }
    }
}
