using System.Globalization;
using Microsoft.Extensions.Logging;
using Nms.Plugins.Sdk;
using Npgsql;

namespace Nms.Core.Plugins;

/// <summary>
/// Opens credential profiles for a plugin's stdin, in memory only (implemented by the Credentials feature,
/// so running a plugin does not depend on how secrets are stored). Null-free: ids that do not exist are left out.
/// </summary>
public interface IPluginCredentials
{
    Task<IReadOnlyDictionary<long, PluginCredential>> ReadAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken);
}

/// <summary>One target of a plugin call: a device or an address, and the credential profiles it may use, in order.</summary>
public sealed record PluginCallTarget(string Id, string Ip, int Port, IReadOnlyList<long> CredentialIds, string? HostKey = null)
{
    public static string IdOf(long deviceId) => deviceId.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What one plugin call came to for one target: the plugin's successful result, or why there is none.</summary>
public sealed record PluginOutcome(PluginCallTarget Target, PluginResult? Result, string? Error)
{
    public bool Succeeded => Result is not null;
}

/// <summary>
/// The one way the poller, the discovery worker and the recovery probe run a plugin: open the targets'
/// credentials (in memory only), run the plugin once for all of them through <see cref="IPluginRunner"/>,
/// and judge its answer target by target. A plugin's failure, or a secret that cannot be opened, is an
/// outcome per target, never an exception; only database errors and cancellation propagate.
/// </summary>
public sealed partial class PluginTargetRunner(IPluginRunner runner, IPluginCredentials credentials, ILogger<PluginTargetRunner> logger)
{
    /// <summary>The longest error text an outcome carries.</summary>
    public const int MaxErrorLength = 1_000;

    public const string CredentialsUnreadable = "credentials could not be read";
    public const string NoResult = "the plugin returned no result for this target";
    public const string NoReason = "the plugin reported failure without a reason";

    /// <summary>
    /// Each target gets its first credential as <c>credential</c> (what <c>poll</c> mode reads) and all of
    /// them, in order, as <c>credentials</c> (what <c>discovery</c> mode tries): one rule for every caller.
    /// </summary>
    public async Task<IReadOnlyList<PluginOutcome>> RunAsync(
        string plugin, string mode, int timeoutMs, IReadOnlyList<PluginCallTarget> targets, CancellationToken cancellationToken)
    {
        if (targets.Count == 0)
        {
            return [];
        }

        var secrets = await ReadCredentialsAsync(plugin, targets, cancellationToken);
        if (secrets is null)
        {
            return targets.Select(t => Failed(t, CredentialsUnreadable)).ToList();
        }

        var request = new PluginRequest(PluginContract.Version, mode, timeoutMs, targets.Select(t => Request(t, secrets)).ToList());
        var run = await runner.RunAsync(plugin, request, cancellationToken);
        LogRun(plugin, mode, targets.Count, run.Succeeded, run.Duration.TotalMilliseconds);
        if (!run.Succeeded)
        {
            LogCallFailed(plugin, mode, targets.Count, run.Error);
            // The whole call failed (crash, hang, garbage): every target of it failed for that reason.
            var error = $"plugin failed: {run.Error}";
            return targets.Select(t => Failed(t, error)).ToList();
        }

        var byId = new Dictionary<string, PluginResult>(StringComparer.Ordinal);
        foreach (var result in run.Response!.Results)
        {
            if (result is not null)
            {
                byId.TryAdd(result.Id, result);
            }
        }

        return targets.Select(t => Judge(t, byId.GetValueOrDefault(t.Id))).ToList();
    }

    private static PluginOutcome Judge(PluginCallTarget target, PluginResult? result) => result switch
    {
        null => Failed(target, NoResult),
        { Success: false } => Failed(target, string.IsNullOrWhiteSpace(result.Error) ? NoReason : result.Error),
        _ => new PluginOutcome(target, result, null),
    };

    private static PluginTarget Request(PluginCallTarget target, IReadOnlyDictionary<long, PluginCredential> secrets)
    {
        var available = target.CredentialIds.Where(secrets.ContainsKey).Select(id => secrets[id]).ToList();
        return new PluginTarget(target.Id, target.Ip, target.Port,
            Credential: available.FirstOrDefault(), Credentials: available.Count > 0 ? available : null, HostKey: target.HostKey);
    }

    /// <summary>Null when a secret cannot be opened (e.g. its key id was removed from settings).</summary>
    private async Task<IReadOnlyDictionary<long, PluginCredential>?> ReadCredentialsAsync(
        string plugin, IReadOnlyList<PluginCallTarget> targets, CancellationToken cancellationToken)
    {
        try
        {
            return await credentials.ReadAsync(targets.SelectMany(t => t.CredentialIds).Distinct().ToList(), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not NpgsqlException)
        {
            // Never the exception's text: it could describe the sealed secret.
            LogCredentialsUnreadable(plugin, targets.Count, ex.GetType().Name);
            return null;
        }
    }

    private static PluginOutcome Failed(PluginCallTarget target, string error) =>
        new(target, null, error.Length > MaxErrorLength ? error[..MaxErrorLength] : error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Plugin {Plugin} -{Mode} ran for {Targets} targets, succeeded {Succeeded}, in {DurationMs:F0} ms")]
    private partial void LogRun(string plugin, string mode, int targets, bool succeeded, double durationMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Plugin {Plugin} -{Mode} failed for the whole call of {Targets} targets: {Error}")]
    private partial void LogCallFailed(string plugin, string mode, int targets, string? error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Credentials for {Targets} targets of plugin {Plugin} could not be opened ({ErrorType}); they fail this run")]
    private partial void LogCredentialsUnreadable(string plugin, int targets, string errorType);
}
