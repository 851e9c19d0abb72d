using WriteTracer.Events;
using WriteTracer.Sinks;

namespace WriteTracer.Tests.Infrastructure;

/// <summary>
/// A sink that copies what it receives (batches are recycled once released) and can be
/// held inside <see cref="EventSink.Write"/> or made to fail, to drive the base class's accounting.
/// </summary>
internal sealed class RecordingSink(long capacityEvents = 1 << 20, EventFormat format = EventFormat.Json)
    : EventSink("test", capacityEvents, TimeSpan.FromSeconds(30), format)
{
    private readonly ManualResetEventSlim _released = new(initialState: true);
    private readonly SemaphoreSlim _entered = new(0);

    public List<RecordedEvent> Events { get; } = [];

    public List<RecordedBatch> Batches { get; } = [];

    public int CompletedCalls { get; private set; }

    /// <summary>When it returns true for a batch, Write throws before accounting for it.</summary>
    public Func<EventBatch, bool>? FailWhen { get; set; }

    /// <summary>From now on Write waits inside until <see cref="Release"/>.</summary>
    public void Hold() => _released.Reset();

    public void Release() => _released.Set();

    /// <summary>Waits until the worker has entered Write (once per call to Write).</summary>
    public void WaitUntilWriting() =>
        Assert.True(_entered.Wait(Poll.Limit), "the sink's worker never called Write");

    protected override void Write(EventBatch batch)
    {
        _entered.Release();
        Assert.True(_released.Wait(Poll.Limit), "the test never released the sink");
        if (FailWhen?.Invoke(batch) == true)
        {
            throw new InvalidOperationException("a failing sink");
        }
        Batches.Add(RecordedBatch.Of(batch));
        Events.AddRange(RecordedEvent.AllOf(batch));
        CountDelivered(batch.Count);
    }

    protected override void OnCompleted() => CompletedCalls++;

    /// <summary>Lets a held worker go, so a failed test does not leave it waiting.</summary>
    public override void Dispose() => Release();
}
