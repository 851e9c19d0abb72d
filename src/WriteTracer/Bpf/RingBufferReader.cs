namespace WriteTracer.Bpf;

/// <summary>
/// The consumer's half of a BPF ring buffer over its memory, wherever that is mapped: the
/// consumer position (ours to write), the producer position (the kernel's) and the data
/// area, a power of two that positions index modulo its size. Records are handed to the
/// consumer in place, without a copy, and the consumer position is published in steps
/// rather than after every record: each publication is a cache line the writing CPU must
/// fetch back before its next reservation. The rare record that wraps around the end of
/// the data area is joined in a buffer of its own.
/// </summary>
internal sealed unsafe class RingBufferReader
{
    /// <summary>The record is reserved but not yet submitted.</summary>
    public const uint BusyBit = 1u << 31;

    /// <summary>The record was reserved and then discarded: skip it.</summary>
    public const uint DiscardBit = 1u << 30;

    /// <summary>Each record's header: its length with the two bits above, and the kernel's page offset.</summary>
    public const int HeaderBytes = 8;

    private readonly ulong* _consumerPosition;
    private readonly ulong* _producerPosition;
    private readonly byte* _data;
    private readonly ulong _mask;
    private readonly ulong _publishEvery;
    private readonly byte[] _wrapped = new byte[WriteEvent.Size + WriteEvent.MaxCapture];

    /// <param name="size">The data area's size in bytes, a power of two.</param>
    public RingBufferReader(ulong* consumerPosition, ulong* producerPosition, byte* data, int size)
    {
        _consumerPosition = consumerPosition;
        _producerPosition = producerPosition;
        _data = data;
        _mask = (ulong)size - 1;
        _publishEvery = (ulong)size / 16;
    }

    /// <summary>The kernel has written past what is consumed.</summary>
    public bool HasData => Volatile.Read(ref *_producerPosition) != Volatile.Read(ref *_consumerPosition);

    /// <summary>
    /// Hands every submitted record to consumer in order, up to the first one still being
    /// written, and publishes the consumer position past them; returns the records consumed.
    /// </summary>
    public int Consume(IRecordConsumer consumer)
    {
        var position = Volatile.Read(ref *_consumerPosition);
        var published = position;
        var records = 0;
        try
        {
            while (true)
            {
                var producer = Volatile.Read(ref *_producerPosition);
                if (position == producer)
                {
                    break;
                }
                while (position < producer)
                {
                    var offset = position & _mask;
                    var length = Volatile.Read(ref *(uint*)(_data + offset));
                    if ((length & BusyBit) != 0)
                    {
                        return records; // reserved, not yet submitted: the next poll takes it
                    }
                    var bytes = length & ~(BusyBit | DiscardBit);
                    position += (bytes + HeaderBytes + 7) & ~7u;
                    if ((length & DiscardBit) == 0)
                    {
                        consumer.OnRecord(Record(offset + HeaderBytes, (int)bytes));
                        records++;
                    }
                    if (position - published >= _publishEvery)
                    {
                        Volatile.Write(ref *_consumerPosition, position);
                        published = position;
                    }
                }
            }
            return records;
        }
        finally
        {
            Volatile.Write(ref *_consumerPosition, position);
        }
    }

    /// <summary>The record at offset in the data area, joined into one span if it wraps around the end.</summary>
    private ReadOnlySpan<byte> Record(ulong offset, int length)
    {
        offset &= _mask; // a record may start exactly at the end, after its header
        var first = (int)Math.Min((ulong)length, _mask + 1 - offset);
        var head = new ReadOnlySpan<byte>(_data + offset, first);
        if (first == length)
        {
            return head;
        }
        head.CopyTo(_wrapped);
        new ReadOnlySpan<byte>(_data, length - first).CopyTo(_wrapped.AsSpan(first));
        return _wrapped.AsSpan(0, length);
    }
}
