using System.Text;
using WriteTracer.Bpf;
using WriteTracer.Diagnostics;
using WriteTracer.Events;
using WriteTracer.Metrics;
using WriteTracer.Sinks;

namespace WriteTracer.Hosting;

/// <summary>
/// The line the tracer ends with: what it captured and, by stage, everything it lost, so
/// that issued = captured + kernel drops and, per sink, captured = delivered + dropped +
/// unconfirmed can be checked from it alone (with --lifecycle, captured is the writes and the
/// execs and exits, which every sink but a raw one also takes). Kernel counters beyond the drops are named
/// when they are not zero (<see cref="KernelCounterReport"/>).
/// </summary>
internal static class RunSummary
{
    /// <param name="lifecycle">--lifecycle: the execs and exits captured are counted after the writes.</param>
    public static string Format(EventPipeline pipeline, Func<BpfCounter, ulong> kernelCounter, IReadOnlyList<EventSink> sinks,
        bool lifecycle = false)
    {
        var line = new StringBuilder();
        line.Append($"captured {Plural.Count(pipeline.Captured, "write", "writes")} ({Plural.Count(pipeline.CapturedBytes, "byte", "bytes")})");
        if (lifecycle)
        {
            line.Append($", {Plural.Count(pipeline.Execs, "exec", "execs")}, {Plural.Count(pipeline.Exits, "exit", "exits")}");
        }
        line.Append($"; dropped: kernel {KernelCounterReport.KernelDrops(kernelCounter)}");
        foreach (var sink in sinks)
        {
            line.Append($", {sink.Stage} {sink.Dropped}");
        }
        var unconfirmed = sinks.Where(s => s.Unconfirmed > 0).Select(s => $"{s.Stage} {s.Unconfirmed}").ToList();
        if (unconfirmed.Count > 0)
        {
            line.Append($"; unconfirmed: {string.Join(", ", unconfirmed)}");
        }
        line.Append($"; unreadable buffers {kernelCounter(BpfCounter.ReadFailed)}");
        foreach (var report in KernelCounterReport.All.Where(r => r.Counter != BpfCounter.ReadFailed))
        {
            if (kernelCounter(report.Counter) is var count and > 0)
            {
                line.Append($"; {report.Summary} {count}");
            }
        }
        return line.ToString();
    }
}
