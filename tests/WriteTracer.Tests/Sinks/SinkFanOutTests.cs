using WriteTracer.Events;
using WriteTracer.Sinks;
using WriteTracer.Tests.Infrastructure;

namespace WriteTracer.Tests.Sinks;

public class SinkFanOutTests
{
    private readonly EventBatchPool _pool = TestBatches.Pool();

    [Fact]
    public void Every_sink_gets_every_batch()
    {
        using var first = new RecordingSink();
        using var second = new RecordingSink();
        var fanOut = new SinkFanOut([first, second]);
        fanOut.Start();

        fanOut.Publish(TestBatches.Rent(_pool, TestBatches.Lines("a", 3)), EventFormat.Json);
        fanOut.Publish(TestBatches.Rent(_pool, TestBatches.Lines("b", 2)), EventFormat.Json);
        fanOut.Complete(Poll.Limit);

        string[] expected = [.. TestBatches.Lines("a", 3), .. TestBatches.Lines("b", 2)];
        Assert.Equal(expected, first.Events.Select(e => e.Line));
        Assert.Equal(expected, second.Events.Select(e => e.Line));
        Assert.Equal((5, 5), (first.Delivered, second.Delivered));
        Assert.Equal((1, 1), (first.CompletedCalls, second.CompletedCalls));
    }

    [Fact]
    public void A_batch_returns_to_the_pool_only_when_the_last_sink_is_done_with_it()
    {
        using var fast = new RecordingSink();
        using var slow = new RecordingSink();
        slow.Hold();
        var fanOut = new SinkFanOut([fast, slow]);
        fanOut.Start();
        var batch = TestBatches.Rent(_pool, TestBatches.Lines("x", 4));

        fanOut.Publish(batch, EventFormat.Json);
        slow.WaitUntilWriting();
        Poll.Until(() => fast.Delivered == 4, "the fast sink delivered");

        Assert.NotSame(batch, _pool.Rent()); // the slow sink still holds it
        slow.Release();
        fanOut.Complete(Poll.Limit);
        Assert.Same(batch, _pool.Rent());
        Assert.Equal((4, 4), (fast.Delivered, slow.Delivered));
    }

    [Fact]
    public void A_sink_that_drops_a_batch_keeps_no_reference_to_it()
    {
        // A completed sink refuses every batch (an empty queue takes any one batch, however large).
        using var full = new RecordingSink(capacityEvents: 2);
        using var roomy = new RecordingSink();
        var fanOut = new SinkFanOut([full, roomy]);
        full.Start();
        full.Complete(Poll.Limit);
        roomy.Start();
        var batch = TestBatches.Rent(_pool, TestBatches.Lines("big", 3));

        fanOut.Publish(batch, EventFormat.Json);
        fanOut.Complete(Poll.Limit);

        Assert.Equal((0, 3), (full.Delivered, full.Dropped));
        Assert.Equal((3, 0), (roomy.Delivered, roomy.Dropped));
        Assert.Same(batch, _pool.Rent());
    }

    [Fact]
    public void A_batch_goes_only_to_the_sinks_of_its_format()
    {
        using var json = new RecordingSink();
        using var text = new RecordingSink(format: EventFormat.Text);
        using var otherJson = new RecordingSink();
        var fanOut = new SinkFanOut([json, text, otherJson]);
        fanOut.Start();

        fanOut.Publish(TestBatches.Rent(_pool, TestBatches.Lines("json", 3)), EventFormat.Json);
        fanOut.Publish(TestBatches.Rent(_pool, TestBatches.Lines("text", 2)), EventFormat.Text);
        fanOut.Complete(Poll.Limit);

        Assert.Equal([EventFormat.Json, EventFormat.Text], fanOut.Formats);
        Assert.Equal(TestBatches.Lines("json", 3), json.Events.Select(e => e.Line));
        Assert.Equal(TestBatches.Lines("json", 3), otherJson.Events.Select(e => e.Line));
        Assert.Equal(TestBatches.Lines("text", 2), text.Events.Select(e => e.Line));
    }

    [Fact]
    public void Without_sinks_a_published_batch_goes_straight_back_to_the_pool()
    {
        var fanOut = new SinkFanOut([]);
        var batch = TestBatches.Rent(_pool, TestBatches.Lines("nobody", 2));
        Assert.Empty(fanOut.Formats);

        fanOut.Publish(batch, EventFormat.Json);

        var reused = _pool.Rent();
        Assert.Same(batch, reused);
        Assert.Equal(0, reused.Count); // and is handed out cleared
        Assert.Equal(0, reused.Length);
    }
}
