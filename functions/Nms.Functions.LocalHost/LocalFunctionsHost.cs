using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Nms.Functions.LocalHost;

public sealed class LocalHostOptions
{
    public string Urls { get; set; } = "http://127.0.0.1:7071";

    /// <summary>Assemblies whose <c>[Function]</c> methods are hosted; the app's own by default.</summary>
    public IList<Assembly> FunctionAssemblies { get; } = [typeof(NmsFunctionsServices).Assembly];

    /// <summary>Settings applied over local.settings.json and the environment (tests use this).</summary>
    public IDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>();

    public string? LocalSettingsPath { get; set; }

    public string HostJsonPath { get; set; } = Path.Combine(AppContext.BaseDirectory, "host.json");

    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(20);

    public Action<IServiceCollection>? ConfigureServices { get; set; }

    public Action<ILoggingBuilder>? ConfigureLogging { get; set; }
}

/// <summary>
/// Runs the app's compiled function classes without the Functions Core Tools: the app's own DI
/// setup, Kestrel for HTTP triggers, Azurite (or any Storage account) for queue triggers, NCRONTAB
/// for timers.
/// </summary>
public static class LocalFunctionsHost
{
    public static WebApplication Build(LocalHostOptions options, string[]? args = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args ?? [], ContentRootPath = AppContext.BaseDirectory });
        AddSettings(builder.Configuration, options);
        builder.WebHost.UseUrls(options.Urls);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownGrace + TimeSpan.FromSeconds(10));
        options.ConfigureLogging?.Invoke(builder.Logging);

        var hostJson = HostJson.Load(options.HostJsonPath);
        var functions = FunctionCatalog.Discover(options.FunctionAssemblies)
            .Where(function => !IsDisabled(builder.Configuration, function.Name))
            .ToList();
        foreach (var function in functions)
        {
            FunctionInvoker.Validate(function);
        }

        builder.Services.AddNmsFunctions(builder.Configuration);
        builder.Services.AddMvcCore();
        builder.Services.AddSingleton(hostJson);
        builder.Services.AddSingleton<FunctionInvoker>();
        AddTriggers(builder.Services, functions, options);
        options.ConfigureServices?.Invoke(builder.Services);

        var app = builder.Build();
        HttpTriggerEndpoints.Map(app, functions, hostJson.RoutePrefix);
        return app;
    }

    private static void AddTriggers(IServiceCollection services, IReadOnlyList<FunctionDescriptor> functions, LocalHostOptions options)
    {
        foreach (var function in functions.Where(f => f.Kind == TriggerKind.Queue))
        {
            services.AddSingleton<IHostedService>(sp => new QueueTriggerListener(function, sp.GetRequiredService<FunctionInvoker>(), sp.GetRequiredService<HostJson>(),
                sp.GetRequiredService<IConfiguration>(), sp.GetRequiredService<IOptions<WorkerOptions>>(), sp.GetRequiredService<ILoggerFactory>(), options.ShutdownGrace,
                sp.GetService<Nms.Core.Resilience.DependencyCircuit>()));
        }

        foreach (var function in functions.Where(f => f.Kind == TriggerKind.Timer))
        {
            services.AddSingleton<IHostedService>(sp => new TimerTriggerScheduler(function, sp.GetRequiredService<FunctionInvoker>(),
                sp.GetRequiredService<IConfiguration>(), sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<TimeProvider>()));
        }
    }

    /// <summary>The Functions host's own switch: app setting <c>AzureWebJobs.&lt;name&gt;.Disabled</c>.</summary>
    private static bool IsDisabled(IConfiguration configuration, string name) =>
        configuration[$"AzureWebJobs.{name}.Disabled"] is { } value && (value == "1" || value.Equals("true", StringComparison.OrdinalIgnoreCase));

    /// <summary>local.settings.json's Values (lowest), then environment and arguments, then explicit settings.</summary>
    private static void AddSettings(ConfigurationManager configuration, LocalHostOptions options)
    {
        var path = options.LocalSettingsPath ?? Environment.GetEnvironmentVariable("NMS_LOCAL_SETTINGS") ?? "local.settings.json";
        var values = File.Exists(path) ? ReadValues(path) : [];
        var sources = configuration.Sources.ToList();
        configuration.Sources.Clear();
        configuration.AddInMemoryCollection(values);
        foreach (var source in sources)
        {
            configuration.Sources.Add(source);
        }

        configuration.AddInMemoryCollection(options.Settings.Select(pair => new KeyValuePair<string, string?>(pair.Key.Replace("__", ":", StringComparison.Ordinal), pair.Value)));
    }

    private static Dictionary<string, string?> ReadValues(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (document.RootElement.TryGetProperty("Values", out var section))
        {
            foreach (var property in section.EnumerateObject())
            {
                values[property.Name.Replace("__", ":", StringComparison.Ordinal)] = property.Value.ToString();
            }
        }

        return values;
    }
}
