using WriteTracer.Bpf;
using WriteTracer.Sinks;

namespace WriteTracer.Events;

/// <summary>
/// The reader thread's work per record: decode once, format once into the current
/// batch, and publish batches to the sinks. Nothing here allocates per event.
/// </summary>
internal sealed class EventPipeline : IRecordConsumer
{
    private readonly JsonEventFormatter _formatter = new();
    private readonly WallClock _clock;
    private readonly SinkFanOut _fanOut;
    private readonly EventBatchPool _pool;
    private readonly int _maxLineLength;
    private readonly FdPathResolver? _fdPaths;
    private EventBatch _batch;
    private long _captured;
    private long _capturedBytes;
    private long _malformed;

    /// <param name="fdPaths">Names each event's fd (--resolve-fds); null leaves events without fd_path.</param>
    public EventPipeline(WallClock clock, SinkFanOut fanOut, EventBatchPool pool, int maxLineLength, FdPathResolver? fdPaths = null)
    {
        _fdPaths = fdPaths;
        _clock = clock;
        _fanOut = fanOut;
        _pool = pool;
        _maxLineLength = maxLineLength;
        _batch = pool.Rent();
    }

    /// <summary>Events received from the kernel.</summary>
    public long Captured => Volatile.Read(ref _captured);

    /// <summary>Sum of the sizes the writers asked to write.</summary>
    public long CapturedBytes => Volatile.Read(ref _capturedBytes);

    /// <summary>Records too short to be events (never expected; counted rather than trusted).</summary>
    public long Malformed => Volatile.Read(ref _malformed);

    public void OnRecord(ReadOnlySpan<byte> record)
    {
        if (!WriteEvent.TryDecode(record, out var header, out var data))
        {
            Volatile.Write(ref _malformed, _malformed + 1);
            return;
        }
        if (_batch.FreeSpace.Length < _maxLineLength || _batch.IsFull)
        {
            Flush();
        }
        var unixNs = _clock.ToUnixNanoseconds(header.TimestampNs);
        var fdPath = _fdPaths is null ? default : _fdPaths.Resolve(header);
        var length = _formatter.Format(header, data, unixNs, _batch.FreeSpace, fdPath);
        _batch.Commit(length, header.RootPid, unixNs);
        Volatile.Write(ref _captured, _captured + 1);
        Volatile.Write(ref _capturedBytes, _capturedBytes + (long)header.Count);
    }

    /// <summary>Publishes the batch in progress, if it holds anything.</summary>
    public void Flush()
    {
        if (_batch.Count == 0)
        {
            return;
        }
        _fanOut.Publish(_batch);
        _batch = _pool.Rent();
    }
}
