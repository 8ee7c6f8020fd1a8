using Nms.Testing;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Resilience;

/// <summary>One <see cref="FaultLab"/> for the outage tests: its own PostgreSQL, Azurite, snmpd and app process.</summary>
public sealed class OutageFixture : IAsyncLifetime
{
    public FaultLab Lab { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Lab = await FaultLab.StartAsync(new FaultLabOptions
        {
            Devices = 24,
            IntervalSeconds = 10,
            PluginsDirectory = TestEnvironment.PluginsDirectory,
            LocalHostDll = Path.Combine(AppContext.BaseDirectory, "Nms.Functions.LocalHost.dll"),
            Fping = TestEnvironment.Fping,
        });
        await TestApp.EventuallyAsync(async () => await Lab.AllPolledSinceAsync() is not null, "a first poll of every device", TimeSpan.FromSeconds(90));
    }

    public async Task DisposeAsync() => await Lab.DisposeAsync();
}
