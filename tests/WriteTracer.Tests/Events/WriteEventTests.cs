using WriteTracer.Bpf;
using WriteTracer.Tests.Infrastructure;

namespace WriteTracer.Tests.Events;

public class WriteEventTests
{
    [Fact]
    public void Decoding_reads_every_header_field_and_the_captured_bytes()
    {
        var header = Records.Header(pid: 4000000, tid: 4000001, rootPid: 17, comm: "worker", fd: -1,
            count: 1UL << 40, captured: 3, flags: WriteEvent.ReadFailedFlag, timestampNs: 123_456_789_012);
        var record = Records.Record(header, [7, 8, 9]);

        Assert.True(WriteEvent.TryDecode(record, out var decoded, out var data));

        Assert.Equal(123_456_789_012UL, decoded.TimestampNs);
        Assert.Equal(1UL << 40, decoded.Count);
        Assert.Equal(4000000U, decoded.Pid);
        Assert.Equal(4000001U, decoded.Tid);
        Assert.Equal(17U, decoded.RootPid);
        Assert.Equal(-1, decoded.Fd);
        Assert.Equal(3U, decoded.Captured);
        Assert.True(decoded.ReadFailed);
        Assert.Equal("worker\0\0\0\0\0\0\0\0\0\0"u8.ToArray(), ((ReadOnlySpan<byte>)decoded.Comm).ToArray());
        Assert.Equal([7, 8, 9], data.ToArray());
    }

    [Fact]
    public void A_record_shorter_than_the_header_is_rejected()
    {
        var record = Records.Record(Records.Header(count: 5, captured: 5), "hello"u8);

        foreach (var length in new[] { 0, 1, WriteEvent.Size / 2, WriteEvent.Size - 1 })
        {
            Assert.False(WriteEvent.TryDecode(record.AsSpan(0, length), out _, out var data));
            Assert.True(data.IsEmpty);
        }
    }

    [Fact]
    public void A_record_of_just_the_header_has_no_data()
    {
        var record = Records.Record(Records.Header(count: 10, captured: 0), []);

        Assert.True(WriteEvent.TryDecode(record, out var header, out var data));
        Assert.Equal(10UL, header.Count);
        Assert.True(data.IsEmpty);
    }

    [Fact]
    public void Captured_larger_than_the_record_is_clamped_to_the_bytes_present()
    {
        var record = Records.Record(Records.Header(count: 1000, captured: 1000), "abc"u8);

        Assert.True(WriteEvent.TryDecode(record, out var header, out var data));
        Assert.Equal(1000U, header.Captured);
        Assert.Equal("abc"u8.ToArray(), data.ToArray());
    }

    [Fact]
    public void Bytes_after_the_captured_ones_are_not_data()
    {
        // The kernel reserves records by size class: what follows `captured` is stale.
        var record = Records.Record(Records.Header(count: 2, captured: 2), "hi-stale"u8);

        Assert.True(WriteEvent.TryDecode(record, out _, out var data));
        Assert.Equal("hi"u8.ToArray(), data.ToArray());
    }
}
