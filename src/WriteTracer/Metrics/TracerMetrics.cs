using System.Diagnostics;
using System.Globalization;
using WriteTracer.Bpf;
using WriteTracer.Events;
using WriteTracer.Sinks;
using WriteTracer.Sinks.Loki;
using WriteTracer.Tracking;

namespace WriteTracer.Metrics;

/// <summary>
/// Everything /metrics shows, read at scrape time from the components that count:
/// the pipeline, the kernel's per-CPU counters, every sink, the process registry.
/// </summary>
/// <param name="syscalls">The calls of the write family traced (--syscalls): a write_tracer_syscalls_total sample each.</param>
internal sealed class TracerMetrics(EventPipeline pipeline, Func<BpfCounter, ulong> kernelCounter,
    IReadOnlyList<EventSink> sinks, PidManager pids, IReadOnlyList<WriteSyscall> syscalls)
{
    private static readonly double StartTimeSeconds =
        Process.GetCurrentProcess().StartTime.ToUniversalTime().Subtract(DateTime.UnixEpoch).TotalSeconds;

    public string Render()
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        var w = new PrometheusTextWriter(text);

        w.Gauge("write_tracer_registered_processes",
            "Processes registered to be traced (each traced with its threads and descendants)", pids.RootCount);
        w.Gauge("write_tracer_tracked_processes",
            "Processes traced: the registered ones and their descendants, as of the last reconciliation", pids.TrackedProcesses);
        w.Gauge("write_tracer_tracked_threads",
            "Threads of the traced processes, as of the last reconciliation", pids.TrackedThreads);

        w.Counter("write_tracer_write_calls_total",
            "Calls of the write family captured (every syscall --syscalls traces): events received from the kernel " +
            "(calls it could not queue are counted as dropped, stage kernel)",
            pipeline.Captured);
        w.Counter("write_tracer_write_bytes_total",
            "Bytes the captured calls asked to write", pipeline.CapturedBytes);
        w.Counter("write_tracer_syscalls_total",
            "Calls captured by syscall, one sample per syscall traced (--syscalls); they sum to write_tracer_write_calls_total",
            "syscall", syscalls.Select(s => Sample(s.Name(), pipeline.CapturedOf(s))));
        w.Counter("write_tracer_events_dropped_total",
            "Events lost, by stage: kernel (the ring buffer was full) or a sink (its queue was full or delivery failed)",
            "stage", [new("kernel", kernelCounter(BpfCounter.RingBufferFull)), .. sinks.Select(s => Sample(s.Stage, s.Dropped))]);
        w.Counter("write_tracer_events_delivered_total",
            "Events a sink delivered: written to stdout or the file, or accepted by Loki",
            "stage", sinks.Select(s => Sample(s.Stage, s.Delivered)));
        w.Gauge("write_tracer_sink_queued_events",
            "Events waiting in a sink's queue", "stage", sinks.Select(s => Sample(s.Stage, s.QueuedEvents)));
        w.Counter("write_tracer_capture_failures_total",
            "Captured write(2) calls whose buffer the kernel could not read (their events carry no data)",
            kernelCounter(BpfCounter.ReadFailed));
        w.Counter("write_tracer_untraced_children_total",
            "Child processes not traced because the kernel's tracked-process map was full (see --max-tracked-processes)",
            kernelCounter(BpfCounter.TrackedMapFull));
        w.Counter("write_tracer_malformed_records_total",
            "Ring-buffer records too short to be events (never expected)", pipeline.Malformed);
        if (sinks.OfType<LokiSink>().FirstOrDefault() is { } loki)
        {
            w.Counter("write_tracer_loki_pushes_total",
                "Pushes to Loki by result: ok (accepted), retry (an attempt failed and was retried), failed (given up: its events are dropped)",
                "result", [Sample("ok", loki.PushesAccepted), Sample("retry", loki.PushesRetried), Sample("failed", loki.PushesFailed)]);
        }

        w.Counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds",
            Environment.CpuUsage.TotalTime.TotalSeconds);
        w.Gauge("process_resident_memory_bytes", "Resident memory size in bytes", Environment.WorkingSet);
        w.Gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds", StartTimeSeconds);
        w.Gauge("process_open_fds", "Number of open file descriptors", Directory.EnumerateFileSystemEntries("/proc/self/fd").Count());
        return text.ToString();
    }

    private static KeyValuePair<string, double> Sample(string label, double value) => new(label, value);
}
