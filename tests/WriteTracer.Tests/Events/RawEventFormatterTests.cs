using WriteTracer.Bpf;
using WriteTracer.Events;
using WriteTracer.Tests.Infrastructure;

namespace WriteTracer.Tests.Events;

public sealed class RawEventFormatterTests
{
    [Fact]
    public void A_record_is_the_captured_bytes_exactly_with_nothing_added()
    {
        byte[] data = [0x00, 0xFF, (byte)'\n', 0xC3, 0x28, (byte)'"', (byte)'\\', 0x1B, (byte)'x'];
        var formatter = new RawEventFormatter();
        var destination = new byte[formatter.MaxLength(data.Length, withFdPath: true)];

        var length = formatter.Format(Records.Header(count: 100, captured: (uint)data.Length), data, Records.DesignExampleTime,
            destination, "/var/log/app.log"u8);

        Assert.Equal(data, destination[..length]);
        Assert.Equal(data.Length, destination.Length);
        Assert.Equal(0, formatter.TerminatorLength);
    }

    [Fact]
    public void A_buffer_that_could_not_be_read_adds_nothing()
    {
        var formatter = new RawEventFormatter();

        Assert.Equal(0, formatter.Format(Records.Header(count: 64, captured: 0, flags: WriteEvent.ReadFailedFlag), [], 0, []));
    }

    [Fact]
    public void The_pipeline_publishes_raw_writes_back_to_back_and_json_as_lines()
    {
        var published = new RecordingPublisher();
        var pipeline = new EventPipeline(new WallClock(0), published, [EventFormat.Json, EventFormat.Raw],
            captureBytes: 16, maxEventsPerBatch: 4, minBatchBytes: 0);
        var writes = Enumerable.Range(0, 10).Select(i => new byte[] { (byte)i, 0xFF, (byte)'\n', 0x00 }[..(i % 4 + 1)]).ToList();

        foreach (var write in writes)
        {
            pipeline.OnRecord(Records.Write(write));
        }
        pipeline.Flush();

        Assert.Equal(writes.SelectMany(w => w), published.Batches(EventFormat.Raw).SelectMany(b => b.Bytes));
        Assert.Equal([4, 4, 2], published.Batches(EventFormat.Raw).Select(b => b.Count));
        Assert.Equal(10, published.Events().Count);
        Assert.All(published.Events(), e => Assert.StartsWith("{\"time\":", e.Line));
    }
}
