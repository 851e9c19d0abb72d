using WriteTracer.Bpf;

namespace WriteTracer.Events;

/// <summary>
/// The reader thread, the pipeline's one driver: each cycle polls the ring buffer into the
/// pipeline, then publishes what it formatted.
/// </summary>
internal sealed class EventReader(RingBuffer ring, EventPipeline pipeline, WallClock clock, Func<bool> isTracing)
{
    /// <summary>The longest an event waits in the ring when too few arrive to wake the reader.</summary>
    public const int PollTimeoutMs = 10;

    /// <summary>With nothing attached nothing arrives: wake rarely, so an idle daemon stays idle.</summary>
    public const int IdlePollTimeoutMs = 250;

    /// <summary>Reads until stop is signalled, then once more without waiting: what the kernel already emitted.</summary>
    public void Run(CancellationToken stop)
    {
        bool stopping;
        do
        {
            stopping = stop.IsCancellationRequested;
            clock.Refresh();
            ring.Poll(stopping ? 0 : isTracing() ? PollTimeoutMs : IdlePollTimeoutMs, pipeline);
            pipeline.Flush();
        }
        while (!stopping);
    }
}
