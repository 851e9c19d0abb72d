using System.Runtime.InteropServices;
using WriteTracer.Bpf;

namespace WriteTracer.Tests.Bpf;

/// <summary>
/// The ring buffer's consumer over memory the test allocates and writes as the kernel
/// would: 8-byte headers (length, busy and discard bits), records padded to 8 bytes,
/// positions that only grow and index the data area modulo its size.
/// </summary>
public sealed unsafe class RingBufferTests : IDisposable
{
    private const int Size = 4096;

    private readonly ulong* _positions = (ulong*)NativeMemory.AllocZeroed(2 * sizeof(ulong));
    private readonly byte* _data = (byte*)NativeMemory.AllocZeroed(Size);
    private readonly RingBufferReader _reader;

    public RingBufferTests() => _reader = new RingBufferReader(ConsumerPosition, ProducerPosition, _data, Size);

    private ulong* ConsumerPosition => _positions;

    private ulong* ProducerPosition => _positions + 1;

    public void Dispose()
    {
        NativeMemory.Free(_positions);
        NativeMemory.Free(_data);
    }

    [Fact]
    public void Records_arrive_in_order_whatever_their_padding_and_the_consumer_catches_up_with_the_producer()
    {
        byte[][] records = [Bytes(1, 'a'), Bytes(8, 'b'), Bytes(13, 'c'), []];
        foreach (var record in records)
        {
            Submit(record);
        }
        Assert.True(_reader.HasData);

        var consumer = new CopyingConsumer(this);
        Assert.Equal(4, _reader.Consume(consumer));

        Assert.Equal(records, consumer.Records);
        Assert.Equal((ulong)(16 + 16 + 24 + 8), *ConsumerPosition);
        Assert.False(_reader.HasData);
        Assert.Equal(0, _reader.Consume(consumer));
    }

    [Fact]
    public void A_record_still_being_written_holds_back_itself_and_what_follows_until_it_is_submitted()
    {
        Submit(Bytes(5, 'a'));
        var busyAt = *ProducerPosition;
        Submit(Bytes(5, 'b'), RingBufferReader.BusyBit);
        Submit(Bytes(5, 'c'));
        var consumer = new CopyingConsumer(this);

        Assert.Equal(1, _reader.Consume(consumer));
        Assert.Equal([Bytes(5, 'a')], consumer.Records);
        Assert.Equal(busyAt, *ConsumerPosition);
        Assert.True(_reader.HasData);

        *(uint*)(_data + (busyAt & (Size - 1))) &= ~RingBufferReader.BusyBit;
        Assert.Equal(2, _reader.Consume(consumer));
        Assert.Equal([Bytes(5, 'a'), Bytes(5, 'b'), Bytes(5, 'c')], consumer.Records);
        Assert.Equal(*ProducerPosition, *ConsumerPosition);
    }

    [Fact]
    public void Discarded_records_are_passed_over_and_consumed()
    {
        Submit(Bytes(3, 'a'));
        Submit(Bytes(20, 'x'), RingBufferReader.DiscardBit);
        Submit(Bytes(3, 'c'));
        var consumer = new CopyingConsumer(this);

        Assert.Equal(2, _reader.Consume(consumer));

        Assert.Equal([Bytes(3, 'a'), Bytes(3, 'c')], consumer.Records);
        Assert.Equal(*ProducerPosition, *ConsumerPosition);
    }

    [Theory]
    [InlineData(Size - 24, 40)] // the bytes straddle the end of the data area
    [InlineData(Size - 8, 40)]  // the header fills the end: the bytes start at the beginning
    [InlineData(Size - 48, 40)] // the last record that just fits: no wrap
    public void A_record_that_wraps_around_the_end_arrives_whole(int headerOffset, int length)
    {
        // Positions keep growing past the size: start a few laps in.
        *ConsumerPosition = *ProducerPosition = 3 * Size + (ulong)headerOffset;
        var record = Enumerable.Range(0, length).Select(i => (byte)(i + 1)).ToArray();
        Submit(record);
        Submit(Bytes(4, 'z'));
        var consumer = new CopyingConsumer(this);

        Assert.Equal(2, _reader.Consume(consumer));

        Assert.Equal([record, Bytes(4, 'z')], consumer.Records);
        Assert.Equal(*ProducerPosition, *ConsumerPosition);
    }

    [Fact]
    public void The_consumer_position_is_published_in_steps_of_a_sixteenth_of_the_ring_and_at_the_end()
    {
        // 32 records of 64 bytes each (header included): a step is 256 bytes, four records.
        for (var i = 0; i < 32; i++)
        {
            Submit(Bytes(64 - RingBufferReader.HeaderBytes, 'r'));
        }
        var consumer = new CopyingConsumer(this);

        Assert.Equal(32, _reader.Consume(consumer));

        Assert.Equal(Enumerable.Range(0, 32).Select(i => (ulong)(i / 4 * 256)), consumer.PublishedWhenHandedOver);
        Assert.Equal(32UL * 64, *ConsumerPosition);
    }

    private static byte[] Bytes(int length, char fill) => Enumerable.Repeat((byte)fill, length).ToArray();

    /// <summary>Writes a record at the producer position as the kernel does (the header last), then advances it.</summary>
    private void Submit(byte[] record, uint flags = 0)
    {
        var position = *ProducerPosition;
        for (var i = 0; i < record.Length; i++)
        {
            _data[(position + RingBufferReader.HeaderBytes + (ulong)i) & (Size - 1)] = record[i];
        }
        var header = (uint*)(_data + (position & (Size - 1)));
        header[1] = 0; // the kernel's page offset, which the consumer ignores
        header[0] = (uint)record.Length | flags;
        *ProducerPosition = position + (((ulong)record.Length + RingBufferReader.HeaderBytes + 7) & ~7UL);
    }

    /// <summary>Copies each record, and notes the consumer position the kernel could see at the time.</summary>
    private sealed class CopyingConsumer(RingBufferTests ring) : IRecordConsumer
    {
        public List<byte[]> Records { get; } = [];

        public List<ulong> PublishedWhenHandedOver { get; } = [];

        public void OnRecord(ReadOnlySpan<byte> record)
        {
            Records.Add(record.ToArray());
            PublishedWhenHandedOver.Add(*ring.ConsumerPosition);
        }
    }
}
