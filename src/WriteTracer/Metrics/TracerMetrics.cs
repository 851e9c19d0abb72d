using Prometheus;
using WriteTracer.Bpf;
using WriteTracer.Events;
using WriteTracer.Sinks;
using WriteTracer.Sinks.Loki;
using WriteTracer.Tracking;

namespace WriteTracer.Metrics;

/// <summary>
/// Everything /metrics shows, on a prometheus-net registry of the tracer's own. The hot path
/// keeps its plain Interlocked counters (the pipeline, the kernel's per-CPU counters, every
/// sink, the process registry); they are copied into the collectors when a scrape asks for
/// them, so no event goes through the library. Only the delay histogram is fed directly,
/// once per batch.
/// </summary>
internal sealed class TracerMetrics
{
    /// <summary>1 ms to 33 s, doubling: from a sink that keeps up to one stuck in retries.</summary>
    private static readonly double[] DelayBuckets = Histogram.ExponentialBuckets(0.001, 2, 16);

    private readonly EventPipeline _pipeline;
    private readonly Func<BpfCounter, ulong> _kernelCounter;
    private readonly IReadOnlyList<EventSink> _sinks;
    private readonly PidManager _pids;
    private readonly CgroupRegistry _cgroups;
    private readonly Gauge _registered;
    private readonly Gauge _registeredCgroups;
    private readonly Gauge _trackedProcesses;
    private readonly Gauge _trackedThreads;
    private readonly Counter _writeCalls;
    private readonly Counter _writeBytes;
    private readonly IReadOnlyList<WriteSyscall> _tracedSyscalls;
    private readonly Counter _syscalls;
    private readonly Counter? _lifecycleEvents;
    private readonly Counter _dropped;
    private readonly Counter _delivered;
    private readonly Counter _unconfirmed;
    private readonly Gauge _queued;
    private readonly Dictionary<string, Counter> _kernelFamilies = [];
    private readonly Counter _malformed;
    private readonly LokiSink? _loki;
    private readonly Counter? _lokiPushes;
    private readonly Gauge _residentMemory;
    private readonly Gauge _openFds;

    /// <param name="syscalls">The calls of the write family traced (--syscalls): a write_tracer_syscalls_total sample each.</param>
    /// <param name="lifecycle">--lifecycle: write_tracer_lifecycle_events_total counts the execs and exits.</param>
    public TracerMetrics(EventPipeline pipeline, Func<BpfCounter, ulong> kernelCounter, IReadOnlyList<EventSink> sinks, PidManager pids,
        CgroupRegistry cgroups, IReadOnlyList<WriteSyscall> syscalls, bool lifecycle = false)
    {
        _tracedSyscalls = syscalls;
        _pipeline = pipeline;
        _kernelCounter = kernelCounter;
        _sinks = sinks;
        _pids = pids;
        _cgroups = cgroups;
        // The library's own figures that pass `promtool check metrics`: GC collections and memory,
        // process CPU, start time, threads, handles. Its event-counter and meter adapters are
        // left out: their names break the exposition rules (a gauge named _total, gauges named _count).
        DotNetStats.Register(Registry);
        var metrics = Prometheus.Metrics.WithCustomRegistry(Registry);

        _registered = metrics.CreateGauge("write_tracer_registered_processes",
            "Processes registered to be traced (each traced with its threads and descendants)");
        _registeredCgroups = metrics.CreateGauge("write_tracer_registered_cgroups",
            "cgroups registered to be traced (each with every process in it or below it)");
        _trackedProcesses = metrics.CreateGauge("write_tracer_tracked_processes",
            "Processes traced: the registered ones and their descendants, and the members of registered cgroups, kept as the kernel reports forks and exits");
        _trackedThreads = metrics.CreateGauge("write_tracer_tracked_threads",
            "Threads of the traced processes, kept as the kernel reports thread starts and exits");
        _writeCalls = metrics.CreateCounter("write_tracer_write_calls_total",
            "Calls of the write family captured (every syscall --syscalls traces): events received from the kernel " +
            "(calls it could not queue are counted as dropped, stage kernel)");
        _writeBytes = metrics.CreateCounter("write_tracer_write_bytes_total",
            "Bytes the captured calls asked to write");
        _syscalls = metrics.CreateCounter("write_tracer_syscalls_total",
            "Calls captured by syscall, one sample per syscall traced (--syscalls); they sum to write_tracer_write_calls_total",
            "syscall");
        if (lifecycle)
        {
            _lifecycleEvents = metrics.CreateCounter("write_tracer_lifecycle_events_total",
                "Execs and exits of traced processes captured (--lifecycle), by event; not in the write counters " +
                "(records the kernel could not queue are counted as dropped, stage kernel)", "event");
        }
        _dropped = metrics.CreateCounter(KernelCounterReport.DroppedEvents,
            "Events lost, by stage: kernel (the ring buffer was full, or no per-thread storage could hold a write until its exit; with --lifecycle, execs and exits too), lifecycle (a lifecycle record found the ring full) or a sink (its queue was full or delivery failed)",
            "stage");
        _delivered = metrics.CreateCounter("write_tracer_events_delivered_total",
            "Events a sink delivered: written to stdout or the file, or accepted by Loki", "stage");
        _unconfirmed = metrics.CreateCounter("write_tracer_events_unconfirmed_total",
            "Events of pushes whose answer never came before the shutdown timeout: perhaps stored, perhaps not", "stage");
        _queued = metrics.CreateGauge("write_tracer_sink_queued_events", "Events waiting in a sink's queue", "stage");
        foreach (var report in KernelCounterReport.All.Where(r => r.Stage is null))
        {
            _kernelFamilies[report.Metric] = metrics.CreateCounter(report.Metric, report.Help!);
        }
        _malformed = metrics.CreateCounter("write_tracer_malformed_records_total",
            "Ring-buffer records too short to be events (never expected)");
        _loki = sinks.OfType<LokiSink>().FirstOrDefault();
        if (_loki is not null)
        {
            _lokiPushes = metrics.CreateCounter("write_tracer_loki_pushes_total",
                "Pushes to Loki by result: ok (accepted), retry (an attempt failed and was retried), failed (given up: its events are dropped), unconfirmed (no answer before the shutdown timeout: its events are unconfirmed)",
                "result");
        }
        _residentMemory = metrics.CreateGauge("process_resident_memory_bytes", "Resident memory size in bytes");
        _openFds = metrics.CreateGauge("process_open_fds", "Number of open file descriptors");

        var delay = metrics.CreateHistogram("write_tracer_event_delay_seconds",
            "Seconds from the kernel's timestamp of a batch's oldest event until the sink's worker takes the batch, by stage: how far behind each sink runs (observed once per batch)",
            new HistogramConfiguration { LabelNames = ["stage"], Buckets = DelayBuckets });
        foreach (var sink in sinks)
        {
            sink.BatchDelayObserver = delay.WithLabels(sink.Stage).Observe;
        }
        Registry.AddBeforeCollectCallback(Update);
    }

    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    private void Update()
    {
        _registered.Set(_pids.RootCount);
        _registeredCgroups.Set(_cgroups.Count);
        _trackedProcesses.Set(_pids.TrackedProcesses);
        _trackedThreads.Set(_pids.TrackedThreads);
        _writeCalls.IncTo(_pipeline.Captured);
        _writeBytes.IncTo(_pipeline.CapturedBytes);
        foreach (var syscall in _tracedSyscalls)
        {
            _syscalls.WithLabels(syscall.Name()).IncTo(_pipeline.CapturedOf(syscall));
        }
        if (_lifecycleEvents is not null)
        {
            _lifecycleEvents.WithLabels("exec").IncTo(_pipeline.Execs);
            _lifecycleEvents.WithLabels("exit").IncTo(_pipeline.Exits);
        }
        foreach (var stage in KernelCounterReport.All.Where(r => r.Stage is not null).GroupBy(r => r.Stage!))
        {
            _dropped.WithLabels(stage.Key).IncTo(stage.Aggregate(0UL, (sum, r) => sum + _kernelCounter(r.Counter)));
        }
        foreach (var report in KernelCounterReport.All.Where(r => r.Stage is null))
        {
            _kernelFamilies[report.Metric].IncTo(_kernelCounter(report.Counter));
        }
        foreach (var sink in _sinks)
        {
            _dropped.WithLabels(sink.Stage).IncTo(sink.Dropped);
            _delivered.WithLabels(sink.Stage).IncTo(sink.Delivered);
            _unconfirmed.WithLabels(sink.Stage).IncTo(sink.Unconfirmed);
            _queued.WithLabels(sink.Stage).Set(sink.QueuedEvents);
        }
        _malformed.IncTo(_pipeline.Malformed);
        if (_loki is not null && _lokiPushes is not null)
        {
            _lokiPushes.WithLabels("ok").IncTo(_loki.PushesAccepted);
            _lokiPushes.WithLabels("retry").IncTo(_loki.PushesRetried);
            _lokiPushes.WithLabels("failed").IncTo(_loki.PushesFailed);
            _lokiPushes.WithLabels("unconfirmed").IncTo(_loki.PushesUnconfirmed);
        }
        _residentMemory.Set(Environment.WorkingSet);
        _openFds.Set(Directory.EnumerateFileSystemEntries("/proc/self/fd").Count());
    }
}
