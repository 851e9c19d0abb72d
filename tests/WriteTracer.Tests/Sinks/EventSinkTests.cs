using WriteTracer.Events;
using WriteTracer.Sinks;
using WriteTracer.Tests.Infrastructure;

namespace WriteTracer.Tests.Sinks;

public class EventSinkTests
{
    private readonly EventBatchPool _pool = TestBatches.Pool();

    [Fact]
    public void A_full_queue_counts_the_offered_events_as_dropped()
    {
        using var sink = new RecordingSink(capacityEvents: 10);
        sink.Hold();
        sink.Start();
        Offer(sink, TestBatches.Lines("a", 4));
        sink.WaitUntilWriting(); // "a" is out of the queue, in Write

        Offer(sink, TestBatches.Lines("b", 6));
        Offer(sink, TestBatches.Lines("c", 4)); // exactly fills the queue
        Offer(sink, TestBatches.Lines("d", 1));
        Offer(sink, TestBatches.Lines("e", 3));

        Assert.Equal(4, sink.Dropped);
        sink.Release();
        sink.Complete(Poll.Limit);
        Assert.Equal(14, sink.Delivered);
        Assert.Equal(4, sink.Dropped);
        Assert.Equal([.. TestBatches.Lines("a", 4), .. TestBatches.Lines("b", 6), .. TestBatches.Lines("c", 4)], sink.Events.Select(e => e.Line));
    }

    [Fact]
    public void A_queue_holding_its_byte_limit_drops_further_events_whatever_its_event_capacity()
    {
        var lineBytes = (int)(EventSink.MaxQueuedBytes / 3);
        var pool = new EventBatchPool(bufferBytes: lineBytes + 1, maxEvents: 1);
        using var sink = new RecordingSink(capacityEvents: 1000);
        sink.Hold();
        sink.Start();
        Offer(sink, pool, "a", lineBytes);
        sink.WaitUntilWriting();

        Offer(sink, pool, "b", lineBytes);
        Offer(sink, pool, "c", lineBytes);
        Offer(sink, pool, "d", lineBytes); // with their newlines, three thirds exceed the limit
        Offer(sink, pool, "e", 10);

        Assert.Equal(1, sink.Dropped);
        sink.Release();
        sink.Complete(Poll.Limit);
        Assert.Equal(["a", "b", "c", "e"], sink.Events.Select(e => e.Line[..1]));
    }

    [Fact]
    public void Every_offered_event_is_delivered_or_dropped_exactly_once()
    {
        using var sink = new RecordingSink(capacityEvents: 64);
        sink.Start();
        var offered = new List<string[]>();
        for (var i = 0; i < 2000; i++)
        {
            var lines = TestBatches.Lines($"batch{i}", 1 + i % 13);
            offered.Add(lines);
            Offer(sink, lines);
        }

        sink.Complete(Poll.Limit);

        Assert.Equal(offered.Sum(b => b.Length), sink.Delivered + sink.Dropped);
        Assert.Equal(sink.Delivered, sink.Events.Count);
        // What arrived is whole batches, in the order offered, none twice.
        var delivered = sink.Events.Select(e => e.Line).ToList();
        var firsts = delivered.ToHashSet();
        Assert.Equal(offered.Where(b => firsts.Contains(b[0])).SelectMany(b => b), delivered);
    }

    [Fact]
    public void Complete_drains_the_queue_then_calls_OnCompleted_once()
    {
        using var sink = new RecordingSink();
        sink.Hold();
        sink.Start();
        for (var i = 0; i < 5; i++)
        {
            Offer(sink, TestBatches.Lines($"b{i}", 100));
        }
        sink.WaitUntilWriting();

        sink.Release();
        sink.Complete(Poll.Limit);

        Assert.Equal(500, sink.Delivered);
        Assert.Equal(0, sink.Dropped);
        Assert.Equal(5, sink.Batches.Count);
        Assert.Equal(1, sink.CompletedCalls);
    }

    [Fact]
    public void Events_offered_after_completion_are_dropped()
    {
        using var sink = new RecordingSink();
        sink.Start();
        sink.Complete(Poll.Limit);

        Offer(sink, TestBatches.Lines("late", 3));

        Assert.Equal(0, sink.Delivered);
        Assert.Equal(3, sink.Dropped);
    }

    [Fact]
    public void Events_still_queued_at_the_deadline_are_counted_as_dropped()
    {
        using var sink = new RecordingSink();
        sink.Hold();
        sink.Start();
        var held = TestBatches.Rent(_pool, TestBatches.Lines("held", 2));
        sink.Offer(held);
        held.Release();
        sink.WaitUntilWriting();
        var queued = TestBatches.Rent(_pool, TestBatches.Lines("queued", 7));
        sink.Offer(queued);
        queued.Release();

        sink.Complete(TimeSpan.FromMilliseconds(50)); // the worker is held in Write: the deadline passes

        Assert.Equal(7, sink.Dropped);
        Assert.Same(queued, _pool.Rent()); // its reference was given back
        sink.Release();
        Poll.Until(() => _pool.Rent() == held, "the held batch back in the pool");
        Assert.Equal(2, sink.Delivered);
        Assert.Equal(7, sink.Dropped);
    }

    [Fact]
    public void A_batch_whose_write_throws_is_dropped_and_the_worker_carries_on()
    {
        using var sink = new RecordingSink { FailWhen = batch => batch.Count == 3 };
        sink.Start();
        Offer(sink, TestBatches.Lines("ok1", 2));
        var failing = TestBatches.Rent(_pool, TestBatches.Lines("fails", 3));
        sink.Offer(failing);
        failing.Release();
        Offer(sink, TestBatches.Lines("ok2", 4));

        sink.Complete(Poll.Limit);

        Assert.Equal(6, sink.Delivered);
        Assert.Equal(3, sink.Dropped);
        Assert.Equal([.. TestBatches.Lines("ok1", 2), .. TestBatches.Lines("ok2", 4)], sink.Events.Select(e => e.Line));
        Assert.Equal(1, sink.CompletedCalls);
        Assert.Contains(failing, new[] { _pool.Rent(), _pool.Rent(), _pool.Rent() }); // released despite the exception
    }

    /// <summary>Offers a new batch and gives up the caller's reference, as the fan-out does.</summary>
    /// <summary>Offers one line of length bytes starting with name.</summary>
    private static void Offer(EventSink sink, EventBatchPool pool, string name, int length)
    {
        var batch = TestBatches.Rent(pool, [name.PadRight(length, '.')]);
        sink.Offer(batch);
        batch.Release();
    }

    private void Offer(EventSink sink, IEnumerable<string> lines)
    {
        var batch = TestBatches.Rent(_pool, lines);
        sink.Offer(batch);
        batch.Release();
    }
}
