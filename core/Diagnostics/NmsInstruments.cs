using System.Diagnostics.Metrics;

namespace Nms.Core.Diagnostics;

/// <summary>The pipeline's counters on the <c>Nms</c> meter (System.Diagnostics.Metrics): polling and the metrics writer. Every feature may use it; it uses none.</summary>
public sealed class NmsInstruments : IDisposable
{
    public const string MeterName = "Nms";

    private readonly Meter meter = new(MeterName);
    private long backlog;
    private double oldestDueLagSeconds;
    private IReadOnlyList<(string Queue, long Messages, long PoisonMessages)> queueDepths = [];

    public NmsInstruments()
    {
        DevicesPopped = meter.CreateCounter<long>("nms.polling.devices_popped", "{device}", "Devices popped from the deadline table by the scheduler.");
        DevicesPolled = meter.CreateCounter<long>("nms.polling.devices_polled", "{device}", "Devices polled successfully.");
        DevicesUnreachable = meter.CreateCounter<long>("nms.polling.devices_unreachable", "{device}", "Devices that failed the reachability check.");
        DevicesFailed = meter.CreateCounter<long>("nms.polling.devices_failed", "{device}", "Devices whose plugin poll failed.");
        RowsWritten = meter.CreateCounter<long>("nms.metrics.rows_written", "{row}", "Metric rows written by COPY.");
        SchedulerLag = meter.CreateHistogram<double>("nms.polling.scheduler_lag", "s", "Pop time minus due time, per device.");
        PollLag = meter.CreateHistogram<double>("nms.polling.poll_lag", "s", "Poll start minus due time, per device.");
        CircuitsOpened = meter.CreateCounter<long>("nms.consumers.circuits_opened", "{outage}", "Times a dependency (tag dependency) was found down and consumers started holding their messages.");
        ConsumerHolds = meter.CreateCounter<long>("nms.consumers.holds", "{invocation}", "Consumer invocations (tag consumer) that held their message while a dependency was down.");
        meter.CreateObservableGauge("nms.polling.backlog", () => Interlocked.Read(ref backlog), "{device}", "Devices still due after the last scheduler tick.");
        meter.CreateObservableGauge("nms.polling.oldest_due_lag", () => Volatile.Read(ref oldestDueLagSeconds), "s", "Lag of the oldest device still due after the last tick.");
        meter.CreateObservableGauge("nms.queue.messages", () => QueueMeasurements(d => d.Messages), "{message}", "Messages waiting in each queue (approximate), at the last sample.");
        meter.CreateObservableGauge("nms.queue.poison_messages", () => QueueMeasurements(d => d.PoisonMessages), "{message}",
            "Messages in each queue's poison queue at the last sample: above 0 needs an operator (fix the cause, then replay).");
    }

    public Counter<long> DevicesPopped { get; }
    public Counter<long> DevicesPolled { get; }
    public Counter<long> DevicesUnreachable { get; }
    public Counter<long> DevicesFailed { get; }
    public Counter<long> RowsWritten { get; }
    public Counter<long> CircuitsOpened { get; }
    public Counter<long> ConsumerHolds { get; }
    public Histogram<double> SchedulerLag { get; }
    public Histogram<double> PollLag { get; }

    public long Backlog => Interlocked.Read(ref backlog);
    public double OldestDueLagSeconds => Volatile.Read(ref oldestDueLagSeconds);

    public void ReportBacklog(long count, double lagSeconds)
    {
        Interlocked.Exchange(ref backlog, count);
        Volatile.Write(ref oldestDueLagSeconds, lagSeconds);
    }

    /// <summary>The latest queue depths, read by the <c>nms.queue.*</c> gauges.</summary>
    public void ReportQueueDepths(IReadOnlyList<(string Queue, long Messages, long PoisonMessages)> depths) => Volatile.Write(ref queueDepths, depths);

    private IEnumerable<Measurement<long>> QueueMeasurements(Func<(string Queue, long Messages, long PoisonMessages), long> value) =>
        Volatile.Read(ref queueDepths).Select(d => new Measurement<long>(value(d), new KeyValuePair<string, object?>("queue", d.Queue))).ToList();

    public void Dispose() => meter.Dispose();
}
