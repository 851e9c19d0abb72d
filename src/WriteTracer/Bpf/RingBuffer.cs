using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using WriteTracer.Native;

namespace WriteTracer.Bpf;

/// <summary>
/// The consumer side of the events ring buffer. Records are handed to the consumer
/// in place (no copy) on the thread that calls <see cref="Poll"/>.
/// </summary>
internal sealed unsafe class RingBuffer : IDisposable
{
    private readonly SafeRingBufferHandle _handle;
    private GCHandle _self;
    private readonly IRecordConsumer _consumer;
    private Exception? _consumerFailure;

    public RingBuffer(int mapFd, IRecordConsumer consumer)
    {
        _consumer = consumer;
        _self = GCHandle.Alloc(this);
        _handle = Interop.Libbpf.RingBufferNew(mapFd, &OnSample, GCHandle.ToIntPtr(_self), null);
        if (_handle.IsInvalid)
        {
            var errno = Marshal.GetLastPInvokeError();
            _self.Free();
            throw BpfException.From("opening the ring buffer", errno);
        }
    }

    /// <summary>
    /// Waits up to timeoutMs for a wakeup, then consumes everything available. The
    /// kernel wakes the reader only once enough data is unread, so consuming after a
    /// timeout is what bounds latency. Returns the number of records consumed.
    /// </summary>
    public int Poll(int timeoutMs)
    {
        var polled = Interop.Libbpf.RingBufferPoll(_handle, timeoutMs);
        ThrowIfConsumerFailed();
        if (polled < 0 && polled != -Interop.Libc.EINTR)
        {
            throw BpfException.From("polling the ring buffer", -polled);
        }
        var consumed = Interop.Libbpf.RingBufferConsume(_handle);
        ThrowIfConsumerFailed();
        return Math.Max(polled, 0) + Math.Max(consumed, 0);
    }

    public void Dispose()
    {
        _handle.Dispose();
        if (_self.IsAllocated)
        {
            _self.Free();
        }
    }

    private void ThrowIfConsumerFailed()
    {
        if (_consumerFailure is { } failure)
        {
            _consumerFailure = null;
            throw new InvalidOperationException("the event consumer failed", failure);
        }
    }

    [UnmanagedCallersOnly]
    private static int OnSample(nint context, void* data, nuint size)
    {
        var ring = (RingBuffer)GCHandle.FromIntPtr(context).Target!;
        try
        {
            ring._consumer.OnRecord(new ReadOnlySpan<byte>(data, (int)size));
            return 0;
        }
        catch (Exception e)
        {
            // Exceptions cannot cross into libbpf: stop this consume call and rethrow on the managed side.
            ring._consumerFailure = e;
            return -1;
        }
    }
}
