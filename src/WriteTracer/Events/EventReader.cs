using WriteTracer.Bpf;

namespace WriteTracer.Events;

/// <summary>The reader thread: polls the ring buffer and publishes what it formats.</summary>
internal sealed class EventReader(RingBuffer ring, EventPipeline pipeline, WallClock clock, Func<bool> isTracing)
{
    /// <summary>The longest an event waits in the ring when too few arrive to wake the reader.</summary>
    public const int PollTimeoutMs = 10;

    /// <summary>With nothing attached nothing arrives: wake rarely, so an idle daemon stays idle.</summary>
    public const int IdlePollTimeoutMs = 250;

    /// <summary>Reads until stop is signalled, then drains what the kernel already emitted.</summary>
    public void Run(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            clock.Refresh();
            ring.Poll(isTracing() ? PollTimeoutMs : IdlePollTimeoutMs);
            pipeline.Flush();
        }
        Drain();
    }

    public void Drain()
    {
        ring.Poll(0);
        pipeline.Flush();
    }
}
