using WriteTracer.Bpf;

namespace WriteTracer.Events;

/// <summary>
/// The pipeline's work for one output format: its formatter, the batch being filled and
/// the pool batches come from. Each batch it publishes is shared by whatever takes this format.
/// </summary>
internal sealed class EventLane
{
    private readonly IEventFormatter _formatter;
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
        _publisher = publisher;
        _maxLineLength = _formatter.MaxLength(captureBytes, withFdPath);
        _pool = new EventBatchPool(Math.Max(minBatchBytes, 4 * _maxLineLength), maxEventsPerBatch);
        _batch = _pool.Rent();
    }

    public EventFormat Format { get; }

    public void Add(in WriteEvent header, ReadOnlySpan<byte> data, ReadOnlySpan<byte> fdPath, ReadOnlySpan<byte> cgroup, long unixNanoseconds)
    {
        if (_batch.FreeSpace.Length < _maxLineLength || _batch.IsFull)
        {
            Flush();
        }
        var length = _formatter.Format(header, data, unixNanoseconds, _batch.FreeSpace, fdPath, cgroup);
        _batch.Commit(length, header.RootPid, unixNanoseconds, _formatter.TerminatorLength);
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
