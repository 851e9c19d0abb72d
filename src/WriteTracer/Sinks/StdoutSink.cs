using Serilog;
using WriteTracer.Events;

namespace WriteTracer.Sinks;

/// <summary>
/// Events on standard output, a batch per write(2). When the reader of a pipe goes
/// away (<c>write-tracer … | head</c>) the tracer ends normally instead of failing.
/// </summary>
internal sealed class StdoutSink(Stream stdout, Action onClosed, long capacityEvents)
    : EventSink("stdout", capacityEvents, TimeSpan.FromSeconds(1))
{
    private bool _closed;

    public static StdoutSink Open(Action onClosed, long capacityEvents) =>
        new(Console.OpenStandardOutput(), onClosed, capacityEvents);

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
            _closed = true;
            CountDropped(batch.Count);
            Log.Information("standard output closed ({Reason}); stopping", e.Message);
            onClosed();
        }
    }

    public override void Dispose() => stdout.Dispose();
}
