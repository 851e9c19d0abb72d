using System.Text;
using WriteTracer.Events;
using WriteTracer.Tests.Infrastructure;

namespace WriteTracer.Tests.Events;

public class EventBatchAppendTests
{
    [Fact]
    public void Appending_copies_the_lines_and_shifts_their_offsets()
    {
        var pool = TestBatches.Pool();
        var target = TestBatches.Rent(pool, ["first"]);
        var source = TestBatches.Rent(pool, ["second", "third"]);

        Assert.True(target.TryAppend(source));

        Assert.Equal(3, target.Count);
        Assert.Equal("first\nsecond\nthird\n", Encoding.UTF8.GetString(target.Bytes));
        Assert.Equal(["first", "second", "third"], Enumerable.Range(0, 3).Select(i => Encoding.UTF8.GetString(target.Line(i))));
        Assert.Equal("second\nthird\n", Encoding.UTF8.GetString(target.Lines(1, 2)));
    }

    [Fact]
    public void A_batch_that_does_not_fit_leaves_the_target_unchanged()
    {
        var small = new EventBatchPool(bufferBytes: 16, maxEvents: 4);
        var target = TestBatches.Rent(small, ["0123456789"]);
        var tooLong = TestBatches.Rent(small, ["abcdef"]);
        var tooMany = new EventBatchPool(bufferBytes: 1024, maxEvents: 4);

        Assert.False(target.TryAppend(tooLong));
        Assert.False(TestBatches.Rent(tooMany, ["a", "b"]).TryAppend(TestBatches.Rent(tooMany, ["c", "d", "e"])));
        Assert.Equal(1, target.Count);
        Assert.Equal("0123456789\n", Encoding.UTF8.GetString(target.Bytes));
    }
}
