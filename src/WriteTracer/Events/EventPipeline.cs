using WriteTracer.Bpf;
using WriteTracer.Tracking;

namespace WriteTracer.Events;

/// <summary>
/// The reader thread's work per record: decode once, format once per format asked for
/// (one <see cref="EventLane"/> each, usually one), and hand the batches to the
/// publisher. Nothing here allocates per event.
/// </summary>
internal sealed class EventPipeline : IRecordConsumer
{
    public const int DefaultMaxEventsPerBatch = 4096;
    public const int DefaultMinBatchBytes = 256 * 1024;

    private readonly WallClock _clock;
    private readonly EventLane[] _lanes;
    private readonly FdPathResolver? _fdPaths;
    private readonly CgroupNames? _cgroups;
    private long _captured;
    private long _capturedBytes;
    private long _execs;
    private long _exits;
    private long _malformed;

    private readonly long[] _capturedBySyscall = new long[WriteSyscalls.All.Count];

    /// <param name="formats">The formats to write every event in, each once (none: events are only counted).</param>
    /// <param name="fdPaths">Names each event's fd (--resolve-fds); null leaves events without a path.</param>
    /// <param name="nameSyscalls">More than write(2) is traced (--syscalls): JSON events name their syscall.</param>
    /// <param name="cgroups">Names the registered cgroup of events of cgroup members.</param>
    public EventPipeline(WallClock clock, IBatchPublisher publisher, IReadOnlyList<EventFormat> formats, int captureBytes,
        FdPathResolver? fdPaths = null, int maxEventsPerBatch = DefaultMaxEventsPerBatch, int minBatchBytes = DefaultMinBatchBytes,
        bool nameSyscalls = false, CgroupNames? cgroups = null)
    {
        _clock = clock;
        _fdPaths = fdPaths;
        _cgroups = cgroups;
        _lanes = [.. formats.Select(format =>
            new EventLane(format, publisher, captureBytes, fdPaths is not null, maxEventsPerBatch, minBatchBytes, nameSyscalls))];
    }

    /// <summary>Events received from the kernel.</summary>
    public long Captured => Volatile.Read(ref _captured);

    /// <summary>Sum of the sizes the writers asked to write.</summary>
    public long CapturedBytes => Volatile.Read(ref _capturedBytes);

    /// <summary>Events received from the kernel made by this call of the write family.</summary>
    public long CapturedOf(WriteSyscall syscall) => Volatile.Read(ref _capturedBySyscall[(int)syscall]);

    /// <summary>Execs of traced processes received from the kernel (--lifecycle); not in <see cref="Captured"/>, which counts writes.</summary>
    public long Execs => Volatile.Read(ref _execs);

    /// <summary>Exits of traced processes received from the kernel (--lifecycle).</summary>
    public long Exits => Volatile.Read(ref _exits);

    /// <summary>
    /// Records too short to be events, of no known kind, or naming no call of the family (never
    /// expected; counted rather than trusted).
    /// </summary>
    public long Malformed => Volatile.Read(ref _malformed);

    public void OnRecord(ReadOnlySpan<byte> record)
    {
        switch (RingRecord.KindOf(record))
        {
            case RecordKind.Write:
                OnWrite(record);
                break;
            case RecordKind.Exec:
                OnProcessEvent(record, ref _execs);
                break;
            case RecordKind.Exit:
                OnProcessEvent(record, ref _exits);
                break;
            default:
                CountMalformed();
                break;
        }
    }

    private void OnWrite(ReadOnlySpan<byte> record)
    {
        if (!WriteEvent.TryDecode(record, out var header, out var data) || (int)header.Syscall >= _capturedBySyscall.Length)
        {
            CountMalformed();
            return;
        }
        var unixNs = _clock.ToUnixNanoseconds(header.TimestampNs);
        var fdPath = _fdPaths is null || _lanes.Length == 0 ? default : _fdPaths.Resolve(header);
        var cgroup = header.CgroupRoot && _cgroups is not null ? _cgroups.Utf8Of(header.RootPid) : default;
        foreach (var lane in _lanes)
        {
            lane.Add(header, data, fdPath, cgroup, unixNs);
        }
        Volatile.Write(ref _captured, _captured + 1);
        ref var bySyscall = ref _capturedBySyscall[(int)header.Syscall];
        Volatile.Write(ref bySyscall, bySyscall + 1);
        Volatile.Write(ref _capturedBytes, _capturedBytes + (long)header.Count);
    }

    /// <summary>An exec or exit (--lifecycle): formatted in every format that carries them, counted in counter.</summary>
    private void OnProcessEvent(ReadOnlySpan<byte> record, ref long counter)
    {
        if (!ProcessEvent.TryDecode(record, out var header, out var argv))
        {
            CountMalformed();
            return;
        }
        var unixNs = _clock.ToUnixNanoseconds(header.TimestampNs);
        var cgroup = header.CgroupRoot && _cgroups is not null ? _cgroups.Utf8Of(header.RootPid) : default;
        foreach (var lane in _lanes)
        {
            lane.Add(header, argv, cgroup, unixNs);
        }
        Volatile.Write(ref counter, counter + 1);
    }

    private void CountMalformed() => Volatile.Write(ref _malformed, _malformed + 1);

    /// <summary>Publishes the batches in progress, if they hold anything.</summary>
    public void Flush()
    {
        foreach (var lane in _lanes)
        {
            lane.Flush();
        }
    }
}
