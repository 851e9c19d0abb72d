using WriteTracer.Events;

namespace WriteTracer.Tests.Infrastructure;

/// <summary>
/// Takes the pipeline's batches synchronously, on the caller's thread: records a copy of
/// each under its format, then releases it.
/// </summary>
internal sealed class RecordingPublisher : IBatchPublisher
{
    private readonly List<(EventFormat Format, RecordedBatch Batch, RecordedEvent[] Events)> _published = [];

    public void Publish(EventBatch batch, EventFormat format)
    {
        _published.Add((format, RecordedBatch.Of(batch), [.. RecordedEvent.AllOf(batch)]));
        batch.Release();
    }

    /// <summary>The format of every batch published, in order.</summary>
    public IEnumerable<EventFormat> Formats => _published.Select(p => p.Format);

    public List<RecordedBatch> Batches(EventFormat format = EventFormat.Json) =>
        [.. _published.Where(p => p.Format == format).Select(p => p.Batch)];

    public List<RecordedEvent> Events(EventFormat format = EventFormat.Json) =>
        [.. _published.Where(p => p.Format == format).SelectMany(p => p.Events)];
}
