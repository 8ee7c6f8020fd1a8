using System.Diagnostics.Tracing;
using System.Globalization;
using System.Runtime;

namespace Nms.Bench;

/// <summary>
/// Where the app process's CPU goes, without a profiler: CPU per thread kind (the runtime names its threads:
/// ".NET TP Worker", ".NET Finalizer", ".NET BGC", ...; from /proc/self/task), the GC's counts, pause time and
/// bytes allocated, and (with <c>--jit-events</c>) the dynamic methods the JIT compiled in the window, by name:
/// a steady state that keeps emitting them is re-creating reflection stubs or compiled expressions.
/// </summary>
internal sealed class AppRuntimeProfile : IDisposable
{
    private readonly Dictionary<int, (string Name, TimeSpan Cpu)> threadsAtStart = ReadThreads();
    private readonly long allocatedAtStart = GC.GetTotalAllocatedBytes();
    private readonly int[] collectionsAtStart = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
    private readonly TimeSpan pauseAtStart = GC.GetTotalPauseDuration();
    private readonly JitListener? jit;

    public AppRuntimeProfile(bool jitEvents) => jit = jitEvents ? new JitListener() : null;

    public void Print(long polls, TimeSpan appCpu)
    {
        var n = Math.Max(1, polls);
        var now = ReadThreads();
        var byKind = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        var counted = TimeSpan.Zero;
        foreach (var (tid, (name, cpu)) in now)
        {
            var used = threadsAtStart.TryGetValue(tid, out var start) && start.Name == name ? cpu - start.Cpu : cpu;
            var kind = Kind(name);
            byKind[kind] = byKind.GetValueOrDefault(kind) + used;
            counted += used;
        }

        // Threads that ended inside the window (pool workers retire) are in the process total only.
        byKind["(threads that ended in the window)"] = appCpu - counted;
        Console.WriteLine($"app CPU per poll by thread kind (threads live at the end; {now.Count} threads):");
        foreach (var (kind, cpu) in byKind.OrderByDescending(k => k.Value))
        {
            if (cpu > TimeSpan.FromMilliseconds(10) || cpu < TimeSpan.Zero)
            {
                Console.WriteLine($"  {kind,-36} {cpu.TotalMilliseconds / n,6:F3} ms  ({cpu.TotalMilliseconds / Math.Max(1, appCpu.TotalMilliseconds),4:P0})");
            }
        }

        var collections = Enumerable.Range(0, 3).Select(g => GC.CollectionCount(g) - collectionsAtStart[g]).ToArray();
        Console.WriteLine($"GC: allocated {(GC.GetTotalAllocatedBytes() - allocatedAtStart) / (double)n / 1024:F1} KiB per poll, collections gen0/1/2 {collections[0]}/{collections[1]}/{collections[2]}, pause {(GC.GetTotalPauseDuration() - pauseAtStart).TotalMilliseconds / n:F3} ms per poll ({(GCSettings.IsServerGC ? "server" : "workstation")}, {GCSettings.LatencyMode})");
        if (jit is not null)
        {
            var (methods, dynamic) = jit.Take();
            Console.WriteLine($"methods compiled in the window: {methods.Values.Sum()}, of which dynamic {dynamic.Values.Sum()} ({dynamic.Count} names)");
            foreach (var (name, count) in dynamic.OrderByDescending(m => m.Value).Take(10))
            {
                Console.WriteLine($"  {count,6}  {name}");
            }

            Console.WriteLine("  by namespace:");
            foreach (var (name, count) in methods.OrderByDescending(m => m.Value).Take(12))
            {
                Console.WriteLine($"  {count,6}  {name}");
            }
        }
    }

    public void Dispose() => jit?.Dispose();

    private static string Kind(string name) => name switch
    {
        _ when name.StartsWith(".NET TP Worker", StringComparison.Ordinal) => "thread-pool workers",
        _ when name.StartsWith(".NET Finalizer", StringComparison.Ordinal) => "finalizer",
        _ when name.StartsWith(".NET BGC", StringComparison.Ordinal) || name.StartsWith(".NET Server GC", StringComparison.Ordinal) => "GC threads",
        _ when name.StartsWith(".NET Tiered", StringComparison.Ordinal) => "tiered JIT (background)",
        _ when name.StartsWith(".NET Sockets", StringComparison.Ordinal) => "socket event loop",
        _ when name.StartsWith(".NET Long", StringComparison.Ordinal) => "long-running tasks",
        _ when name.StartsWith(".NET Timer", StringComparison.Ordinal) => "timer thread",
        _ when name.StartsWith(".NET TP Gate", StringComparison.Ordinal) => "thread-pool gate",
        _ when name.StartsWith(".NET TP Wait", StringComparison.Ordinal) => "thread-pool wait",
        _ => name,
    };

    private static Dictionary<int, (string Name, TimeSpan Cpu)> ReadThreads()
    {
        var threads = new Dictionary<int, (string, TimeSpan)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var open = stat.IndexOf('(', StringComparison.Ordinal);
                var close = stat.LastIndexOf(')');
                var fields = stat[(close + 2)..].Split(' ');
                var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                threads[int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture)] = (stat[(open + 1)..close], TimeSpan.FromSeconds(ticks / 100.0));
            }
            catch (Exception ex) when (ex is IOException or FormatException or IndexOutOfRangeException)
            {
                // The thread ended between listing and reading.
            }
        }

        return threads;
    }

    /// <summary>The runtime's MethodLoadVerbose events: all methods by namespace, dynamic ones (flag 0x1) by name.</summary>
    private sealed class JitListener : EventListener
    {
        private const EventKeywords JitKeyword = (EventKeywords)0x10;
        private readonly Dictionary<string, int> methods = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> dynamic = new(StringComparer.Ordinal);

        public (Dictionary<string, int> Methods, Dictionary<string, int> Dynamic) Take()
        {
            lock (methods)
            {
                var taken = (new Dictionary<string, int>(methods, StringComparer.Ordinal), new Dictionary<string, int>(dynamic, StringComparer.Ordinal));
                methods.Clear();
                dynamic.Clear();
                return taken;
            }
        }

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(eventSource, EventLevel.Verbose, JitKeyword);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventName is not { } name || !name.StartsWith("MethodLoadVerbose", StringComparison.Ordinal) || eventData.PayloadNames is not { } names)
            {
                return;
            }

            var flags = Convert.ToInt64(eventData.Payload![names.IndexOf("MethodFlags")], CultureInfo.InvariantCulture);
            var type = eventData.Payload[names.IndexOf("MethodNamespace")]?.ToString() ?? "";
            var ns = type.LastIndexOf('.') is var dot and > 0 ? type[..dot] : type;
            lock (methods)
            {
                methods[ns] = methods.GetValueOrDefault(ns) + 1;
                if ((flags & 0x1) != 0)
                {
                    var method = $"{type}::{eventData.Payload[names.IndexOf("MethodName")]}";
                    dynamic[method] = dynamic.GetValueOrDefault(method) + 1;
                }
            }
        }
    }
}
