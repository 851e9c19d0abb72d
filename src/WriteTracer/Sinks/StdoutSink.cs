using Microsoft.Win32.SafeHandles;
using Serilog;
using WriteTracer.Events;
using WriteTracer.Native;

namespace WriteTracer.Sinks;

/// <summary>
/// Events on standard output, a batch per write(2). When the reader of a pipe goes
/// away (<c>write-tracer … | head</c>) the tracer ends normally instead of failing.
/// </summary>
internal sealed class StdoutSink(Stream stdout, Action onClosed, long capacityEvents, EventFormat format = EventFormat.Json)
    : EventSink("stdout", capacityEvents, TimeSpan.FromSeconds(1), format)
{
    private bool _closed;

    private const int StdoutFd = 1;

    /// <summary>
    /// Opens fd 1 as a plain file stream: unlike Console's stream, which pretends a
    /// broken pipe is success, it reports EPIPE.
    /// </summary>
    public static StdoutSink Open(Action onClosed, long capacityEvents, EventFormat format) =>
        new(new FileStream(new SafeFileHandle(StdoutFd, ownsHandle: false), FileAccess.Write, bufferSize: 0), onClosed, capacityEvents, format);

    protected override void Write(EventBatch batch)
    {
        if (_closed)
        {
            CountDropped(batch.Count);
            return;
        }
        try
        {
            stdout.Write(batch.Bytes);
            CountDelivered(batch.Count);
        }
        catch (IOException e)
        {
            CountDropped(batch.Count);
            Close(e.Message);
        }
    }

    /// <summary>A quiet tracer writes nothing, so it also asks the kernel whether the pipe's reader left.</summary>
    protected override void OnIdle()
    {
        if (!_closed && Interop.Libc.IsPeerClosed(StdoutFd))
        {
            Close("the reading end of the pipe was closed");
        }
    }

    private void Close(string reason)
    {
        _closed = true;
        Log.Information("standard output closed ({Reason}); stopping", reason);
        onClosed();
    }

    public override void Dispose() => stdout.Dispose();
}
