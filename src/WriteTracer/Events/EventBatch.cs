namespace WriteTracer.Events;

/// <summary>
/// Formatted events, shared read-only by the sinks of their format: the records back to back
/// (lines, each ending in '\n', or raw bytes) and, per event, where its line is and what
/// Loki needs to label it. Reference-counted so the buffer returns to its pool when the last sink
/// is done with it.
/// </summary>
internal sealed class EventBatch
{
    private readonly EventBatchPool _pool;
    private int _references;

    internal EventBatch(EventBatchPool pool, int bufferBytes, int maxEvents)
    {
        _pool = pool;
        Buffer = new byte[bufferBytes];
        Entries = new EventEntry[maxEvents];
    }

    public byte[] Buffer { get; }

    public int Length { get; private set; }

    public EventEntry[] Entries { get; }

    public int Count { get; private set; }

    public bool IsFull => Count == Entries.Length;

    /// <summary>Every record of the batch, newlines included: what stdout and files write.</summary>
    public ReadOnlySpan<byte> Bytes => Buffer.AsSpan(0, Length);

    /// <summary>The bytes of records [first, first+count), newlines included: each record ends where the next begins.</summary>
    public ReadOnlySpan<byte> Lines(int first, int count)
    {
        if (count == 0)
        {
            return default;
        }
        var start = Entries[first].Offset;
        var end = first + count < Count ? Entries[first + count].Offset : Length;
        return Buffer.AsSpan(start, end - start);
    }

    /// <summary>One event's line without its newline (or its raw bytes).</summary>
    public ReadOnlySpan<byte> Line(int index) => Buffer.AsSpan(Entries[index].Offset, Entries[index].Length);

    public Span<byte> FreeSpace => Buffer.AsSpan(Length);

    /// <summary>Records a line just written at <see cref="FreeSpace"/>, followed by terminatorLength bytes: its newline, or none (raw).</summary>
    public void Commit(int lineLength, uint rootPid, long unixNanoseconds, int terminatorLength = 1)
    {
        Entries[Count++] = new EventEntry(Length, lineLength, rootPid, unixNanoseconds);
        Length += lineLength + terminatorLength;
    }

    /// <summary>
    /// Copies every line of source after this batch's lines, when both bytes and
    /// entries fit; otherwise leaves this batch unchanged and returns false.
    /// </summary>
    public bool TryAppend(EventBatch source)
    {
        if (source.Length > Buffer.Length - Length || source.Count > Entries.Length - Count)
        {
            return false;
        }
        source.Bytes.CopyTo(FreeSpace);
        for (var i = 0; i < source.Count; i++)
        {
            var entry = source.Entries[i];
            Entries[Count++] = entry with { Offset = entry.Offset + Length };
        }
        Length += source.Length;
        return true;
    }

    public void AddReference() => Interlocked.Increment(ref _references);

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            _pool.Return(this);
        }
    }

    internal void Reset()
    {
        Length = 0;
        Count = 0;
        _references = 1;
    }
}

/// <param name="Offset">Start of the line in <see cref="EventBatch.Buffer"/>.</param>
/// <param name="Length">Line length without its newline (raw bytes have none).</param>
internal readonly record struct EventEntry(int Offset, int Length, uint RootPid, long UnixNanoseconds);
