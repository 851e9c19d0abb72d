using System.Diagnostics;
using Serilog;
using WriteTracer.Events;

namespace WriteTracer.Sinks;

/// <summary>Hands each formatted batch to every sink that takes its format; the reader's own reference is released here.</summary>
internal sealed class SinkFanOut(IReadOnlyList<EventSink> sinks) : IBatchPublisher
{
    /// <summary>The formats the sinks take, each once: what the pipeline must format every event as.</summary>
    public IReadOnlyList<EventFormat> Formats { get; } = [.. sinks.Select(s => s.Format).Distinct()];

    public void Publish(EventBatch batch, EventFormat format)
    {
        foreach (var sink in sinks)
        {
            if (sink.Format == format)
            {
                sink.Offer(batch);
            }
        }
        batch.Release();
    }

    public void Start()
    {
        foreach (var sink in sinks)
        {
            sink.Start();
        }
    }

    /// <summary>A sink still delivering after this long is named in one line, with what it holds.</summary>
    private static readonly TimeSpan QuietWait = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Drains and flushes every sink in parallel, all within one timeout; stopNow (a second
    /// signal) ends the wait at once. When a sink is still delivering after a moment, one
    /// line says which, how many events it holds, and how long the tracer will wait.
    /// </summary>
    public void Complete(TimeSpan timeout, CancellationToken stopNow = default)
    {
        var started = Stopwatch.GetTimestamp();
        var completions = sinks.Select(sink => Task.Factory.StartNew(() => sink.Complete(timeout, stopNow),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        if (!Task.WaitAll(completions, timeout < QuietWait ? timeout : QuietWait))
        {
            var busy = sinks.Where((_, i) => !completions[i].IsCompleted && sinks[i].InFlight > 0)
                .Select(s => $"{s.Stage}: {s.InFlight} events in flight").ToList();
            if (busy.Count > 0)
            {
                var left = timeout - Stopwatch.GetElapsedTime(started);
                Log.Information("waiting up to {Seconds} s for {Sinks} (a second SIGINT or SIGTERM stops at once)",
                    Math.Ceiling(left.TotalSeconds), string.Join(", ", busy));
            }
        }
        Task.WaitAll(completions);
    }
}
