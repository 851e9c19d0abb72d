using System.Collections.Concurrent;

namespace WriteTracer.Events;

/// <summary>Recycles batches so steady-state tracing allocates nothing per event.</summary>
internal sealed class EventBatchPool(int bufferBytes, int maxEvents, int maxPooled = 16)
{
    private readonly ConcurrentQueue<EventBatch> _free = new();

    /// <summary>A cleared batch holding one reference (the caller's).</summary>
    public EventBatch Rent()
    {
        var batch = _free.TryDequeue(out var pooled) ? pooled : new EventBatch(this, bufferBytes, maxEvents);
        batch.Reset();
        return batch;
    }

    internal void Return(EventBatch batch)
    {
        if (_free.Count < maxPooled)
        {
            _free.Enqueue(batch);
        }
    }
}
