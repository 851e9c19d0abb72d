using WriteTracer.Events;
using WriteTracer.Sinks;
using WriteTracer.Tests.Infrastructure;

namespace WriteTracer.Tests.Sinks;

/// <summary>What a sink's queue holds while the sink is behind.</summary>
public class EventSinkBacklogTests
{
    private readonly EventBatchPool _pool = TestBatches.Pool();

    [Fact]
    public void A_long_backlog_of_sparse_batches_is_compacted_without_losing_or_reordering_events()
    {
        using var sink = new RecordingSink(capacityEvents: 10_000);
        sink.Hold();
        sink.Start();
        Offer(sink, TestBatches.Lines("first", 1));
        sink.WaitUntilWriting();

        var offered = Enumerable.Range(0, 300).Select(i => TestBatches.Lines($"poll{i}", 1 + i % 3)).ToList();
        foreach (var lines in offered)
        {
            Offer(sink, lines);
        }
        sink.Release();
        sink.Complete(Poll.Limit);

        Assert.Equal(["first-0", .. offered.SelectMany(l => l)], sink.Events.Select(e => e.Line));
        Assert.Equal(0, sink.Dropped);
        // The one in Write, 8 shared while the backlog was short, then the rest copied into one batch of the sink's own.
        Assert.Equal(1 + 8 + 1, sink.Batches.Count);
    }

    [Fact]
    public void Dense_batches_are_always_shared()
    {
        using var sink = new RecordingSink(capacityEvents: 100_000);
        sink.Hold();
        sink.Start();
        Offer(sink, TestBatches.Lines("first", 1));
        sink.WaitUntilWriting();

        var dense = Enumerable.Range(0, 20).Select(i => TestBatches.Lines($"dense{i}-{new string('x', 30)}", 600)).ToList();
        foreach (var lines in dense)
        {
            Offer(sink, lines);
        }
        sink.Release();
        sink.Complete(Poll.Limit);

        Assert.All(sink.Batches.Skip(1), b => Assert.True(b.Length >= b.BufferLength / 4, "a dense test batch"));
        Assert.Equal(21, sink.Batches.Count);
        Assert.Equal(12_001, sink.Delivered);
    }

    [Fact]
    public void An_empty_queue_takes_a_batch_larger_than_its_capacity()
    {
        using var sink = new RecordingSink(capacityEvents: 2);
        sink.Hold();
        sink.Start();
        Offer(sink, TestBatches.Lines("big", 5));
        sink.WaitUntilWriting();
        Offer(sink, TestBatches.Lines("next", 3));
        Offer(sink, TestBatches.Lines("over", 1));
        sink.Release();
        sink.Complete(Poll.Limit);

        Assert.Equal(8, sink.Delivered);
        Assert.Equal(1, sink.Dropped);
    }

    private void Offer(EventSink sink, IEnumerable<string> lines)
    {
        var batch = TestBatches.Rent(_pool, lines);
        sink.Offer(batch);
        batch.Release();
    }
}
