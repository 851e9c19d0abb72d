using WriteTracer.Native;

namespace WriteTracer.Bpf;

/// <summary>
/// The consumer side of the events ring buffer, read through its own mapping of the
/// map (the layout libbpf's ring_buffer uses). Records are handed to the consumer in
/// place, without a copy or a native callback per record, and the consumer position
/// is published in steps rather than after every record: each publication is a cache
/// line the writing CPU must fetch back before its next reservation. The data area is
/// mapped once, not twice as the kernel allows (its pages all count as resident): the
/// rare record that wraps around the end is copied together instead.
/// </summary>
internal sealed unsafe class RingBuffer : IDisposable
{
    private const uint BusyBit = 1u << 31;
    private const uint DiscardBit = 1u << 30;
    private const int HeaderBytes = 8;

    private readonly int _mapFd;
    private readonly IRecordConsumer _consumer;
    private readonly SafeMemoryMapHandle _consumerPage;
    private readonly SafeMemoryMapHandle _producerPageAndData;
    private readonly ulong* _consumerPosition;
    private readonly ulong* _producerPosition;
    private readonly byte* _data;
    private readonly ulong _mask;
    private readonly ulong _publishEvery;
    private readonly byte[] _wrapped = new byte[WriteEvent.Size + WriteEvent.MaxCapture];

    /// <param name="size">The map's max_entries: the data area's size, a power of two.</param>
    public RingBuffer(int mapFd, int size, IRecordConsumer consumer)
    {
        _mapFd = mapFd;
        _consumer = consumer;
        var page = (nuint)Environment.SystemPageSize;
        _consumerPage = SafeMemoryMapHandle.Map(mapFd, page, 0, writable: true, "mapping the ring buffer's consumer page");
        try
        {
            _producerPageAndData = SafeMemoryMapHandle.Map(mapFd, page + (nuint)size, (long)page, writable: false,
                "mapping the ring buffer's data");
        }
        catch
        {
            _consumerPage.Dispose();
            throw;
        }
        _consumerPosition = (ulong*)_consumerPage.Address;
        _producerPosition = (ulong*)_producerPageAndData.Address;
        _data = _producerPageAndData.Address + page;
        _mask = (ulong)size - 1;
        _publishEvery = (ulong)size / 16;
    }

    /// <summary>
    /// Consumes what is available; when nothing is, waits up to timeoutMs for the
    /// kernel's wakeup first. The kernel wakes the reader only once enough data is
    /// unread, so the timeout is what bounds latency. Returns the records consumed.
    /// </summary>
    public int Poll(int timeoutMs)
    {
        if (!HasData && !Interop.Libc.WaitReadable(_mapFd, timeoutMs, out var error) &&
            error != 0 && error != Interop.Libc.EINTR)
        {
            throw BpfException.From("polling the ring buffer", error);
        }
        return Consume();
    }

    public void Dispose()
    {
        _producerPageAndData.Dispose();
        _consumerPage.Dispose();
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

    private bool HasData => Volatile.Read(ref *_producerPosition) != Volatile.Read(ref *_consumerPosition);

    private int Consume()
    {
        var consumer = Volatile.Read(ref *_consumerPosition);
        var published = consumer;
        var records = 0;
        try
        {
            while (true)
            {
                var producer = Volatile.Read(ref *_producerPosition);
                if (consumer == producer)
                {
                    break;
                }
                while (consumer < producer)
                {
                    var offset = consumer & _mask;
                    var header = _data + offset;
                    var length = Volatile.Read(ref *(uint*)header);
                    if ((length & BusyBit) != 0)
                    {
                        return records; // reserved, not yet submitted: the next poll takes it
                    }
                    var bytes = length & ~(BusyBit | DiscardBit);
                    consumer += (bytes + HeaderBytes + 7) & ~7u;
                    if ((length & DiscardBit) == 0)
                    {
                        _consumer.OnRecord(Record(offset + HeaderBytes, (int)bytes));
                        records++;
                    }
                    if (consumer - published >= _publishEvery)
                    {
                        Volatile.Write(ref *_consumerPosition, consumer);
                        published = consumer;
                    }
                }
            }
            return records;
        }
        finally
        {
            Volatile.Write(ref *_consumerPosition, consumer);
        }
    }
}
