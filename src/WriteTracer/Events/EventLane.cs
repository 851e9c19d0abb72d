using WriteTracer.Bpf;

namespace WriteTracer.Events;

/// <summary>
/// The pipeline's work for one output format: its formatter, the batch being filled and
/// the pool batches come from. Each batch it publishes is shared by whatever takes this format.
/// </summary>
internal sealed class EventLane
{
    private readonly IEventFormatter _formatter;
    /// <summary>The formatter's lifecycle lines; null for a format without them (raw).</summary>
    private readonly IProcessEventFormatter? _processFormatter;
    private readonly IBatchPublisher _publisher;
    private readonly EventBatchPool _pool;
    private readonly int _maxLineLength;
    private EventBatch _batch;

    /// <param name="minBatchBytes">A batch holds at least this many bytes, and at least four of the longest lines.</param>
    public EventLane(EventFormat format, IBatchPublisher publisher, int captureBytes, bool withFdPath, int maxEventsPerBatch, int minBatchBytes,
        bool nameSyscalls)
    {
        Format = format;
        _formatter = IEventFormatter.Create(format, nameSyscalls);
        _processFormatter = _formatter as IProcessEventFormatter;
        _publisher = publisher;
        _maxLineLength = _formatter.MaxLength(captureBytes, withFdPath);
        _pool = new EventBatchPool(Math.Max(minBatchBytes, 4 * _maxLineLength), maxEventsPerBatch);
        _batch = _pool.Rent();
    }

    public EventFormat Format { get; }

    public void Add(in WriteEvent header, ReadOnlySpan<byte> data, ReadOnlySpan<byte> fdPath, ReadOnlySpan<byte> cgroup, long unixNanoseconds)
    {
        MakeRoom();
        var length = _formatter.Format(header, data, unixNanoseconds, _batch.FreeSpace, fdPath, cgroup);
        _batch.Commit(length, header.RootPid, unixNanoseconds, _formatter.TerminatorLength);
    }

    /// <summary>An exec or exit (--lifecycle), in a format that carries them: a format that does not (raw) leaves it out.</summary>
    public void Add(in ProcessEvent header, ReadOnlySpan<byte> argv, ReadOnlySpan<byte> cgroup, long unixNanoseconds)
    {
        if (_processFormatter is null)
        {
            return;
        }
        MakeRoom();
        var length = _processFormatter.Format(header, argv, unixNanoseconds, _batch.FreeSpace, cgroup);
        _batch.Commit(length, header.RootPid, unixNanoseconds, _formatter.TerminatorLength);
    }

    /// <summary>Publishes the batch when the longest line might not fit, or it holds its maximum of events.</summary>
    private void MakeRoom()
    {
        if (_batch.FreeSpace.Length < _maxLineLength || _batch.IsFull)
        {
            Flush();
        }
    }

    /// <summary>Publishes the batch in progress, if it holds anything.</summary>
    public void Flush()
    {
        if (_batch.Count == 0)
        {
            return;
        }
        _publisher.Publish(_batch, Format);
        _batch = _pool.Rent();
    }
}
