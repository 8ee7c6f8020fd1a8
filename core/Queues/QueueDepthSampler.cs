using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Nms.Core.Queues;

/// <summary>
/// Reads every queue's depth and poison count on a period, so the <c>nms.queue.*</c> gauges (what
/// an alert on poison watches) stay current without anyone calling the API.
/// </summary>
public sealed class QueueDepthSampler(QueueMonitor monitor, QueueMonitorOptions options, TimeProvider time, ILogger<QueueDepthSampler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The first reading waits one period: at start the app has enough to do, and the health check needs the queue service.
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, options.SampleSeconds)), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var depths = await monitor.DepthsAsync(stoppingToken);
                if (depths.PoisonMessages > 0)
                {
                    logger.LogWarning("{PoisonMessages} messages in poison queues: {Queues}", depths.PoisonMessages,
                        string.Join(", ", depths.Queues.Where(q => q.PoisonMessages > 0).Select(q => $"{q.PoisonQueue}={q.PoisonMessages}")));
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogDebug(ex, "Could not read the queue depths");
            }
        }
    }
}

/// <summary><c>Nms:Queues</c>: how often the depth gauges are refreshed.</summary>
public sealed class QueueMonitorOptions
{
    public int SampleSeconds { get; set; } = 60;
}
