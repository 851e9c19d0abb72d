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

    /// <summary>Drains and flushes every sink in parallel, all within one deadline.</summary>
    public void Complete(TimeSpan deadline) =>
        Parallel.ForEach(sinks, sink => sink.Complete(deadline));
}
