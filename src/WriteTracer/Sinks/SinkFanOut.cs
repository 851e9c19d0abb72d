using WriteTracer.Events;

namespace WriteTracer.Sinks;

/// <summary>Hands each formatted batch to every sink; the reader's own reference is released here.</summary>
internal sealed class SinkFanOut(IReadOnlyList<EventSink> sinks)
{
    public IReadOnlyList<EventSink> Sinks => sinks;

    public void Publish(EventBatch batch)
    {
        foreach (var sink in sinks)
        {
            sink.Offer(batch);
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

    /// <summary>Drains and flushes every sink in parallel, all within one deadline.</summary>
    public void Complete(TimeSpan deadline) =>
        Parallel.ForEach(sinks, sink => sink.Complete(deadline));
}
