using WriteTracer.Native;

namespace WriteTracer.Bpf;

/// <summary>
/// The events ring buffer as this process maps it (the layout libbpf's ring_buffer uses):
/// the consumer page, writable, and the producer page with the data area after it, read
/// by a <see cref="RingBufferReader"/>. The data area is mapped once, not twice as the
/// kernel allows (its pages all count as resident): the reader joins the rare record that
/// wraps around the end instead.
/// </summary>
internal sealed unsafe class RingBuffer : IRecordSource, IDisposable
{
    private readonly int _mapFd;
    private readonly SafeMemoryMapHandle _consumerPage;
    private readonly SafeMemoryMapHandle _producerPageAndData;
    private readonly RingBufferReader _reader;

    /// <param name="size">The map's max_entries: the data area's size, a power of two.</param>
    public RingBuffer(int mapFd, int size)
    {
        _mapFd = mapFd;
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
        _reader = new RingBufferReader((ulong*)_consumerPage.Address, (ulong*)_producerPageAndData.Address,
            _producerPageAndData.Address + page, size);
    }

    /// <summary>
    /// Hands what is available to consumer; when nothing is, waits up to timeoutMs for the
    /// kernel's wakeup first. The kernel wakes the reader only once enough data is unread,
    /// so the timeout is what bounds latency. Returns the records consumed.
    /// </summary>
    public int Poll(int timeoutMs, IRecordConsumer consumer)
    {
        Wait(timeoutMs);
        return Consume(consumer);
    }

    /// <summary>Returns once a record is available, or after timeoutMs (or a signal) without one.</summary>
    public void Wait(int timeoutMs)
    {
        if (!_reader.HasData && !Interop.Libc.WaitReadable(_mapFd, timeoutMs, out var error) &&
            error != 0 && error != Interop.Libc.EINTR)
        {
            throw BpfException.From("polling the ring buffer", error);
        }
    }

    /// <summary>Hands what is available to consumer, without waiting; returns the records consumed. One consumer at a time.</summary>
    public int Consume(IRecordConsumer consumer) => _reader.Consume(consumer);

    public void Dispose()
    {
        _producerPageAndData.Dispose();
        _consumerPage.Dispose();
    }
}
