using WriteTracer.Bpf;

namespace WriteTracer.Events;

/// <summary>
/// Writes one event as one record: a line and its newline, or (raw) the bare captured bytes.
/// An instance is used by one thread (formatters cache per-second state).
/// </summary>
internal interface IEventFormatter
{
    /// <summary>The longest record (terminator included) an event with this much captured data, and maybe an fd path, can produce.</summary>
    int MaxLength(int captureBytes, bool withFdPath);

    /// <summary>Bytes written after each line: 1 for the newline that ends it, 0 for raw bytes.</summary>
    int TerminatorLength { get; }

    /// <summary>
    /// Writes the line and its terminator into destination, sized for <see cref="MaxLength"/>;
    /// returns the length without the terminator. fdPath, when not empty, names the fd
    /// (--resolve-fds, <see cref="FdPathResolver"/>); cgroup names the registered cgroup
    /// of an event with <see cref="WriteEvent.CgroupRoot"/> (at most <see cref="Tracking.CgroupNames.MaxNameBytes"/>).
    /// </summary>
    int Format(in WriteEvent e, ReadOnlySpan<byte> data, long unixNanoseconds, Span<byte> destination,
        ReadOnlySpan<byte> fdPath = default, ReadOnlySpan<byte> cgroup = default);

    /// <param name="nameSyscalls">More than write(2) is traced (--syscalls): JSON events name their syscall.</param>
    static IEventFormatter Create(EventFormat format, bool nameSyscalls) => format switch
    {
        EventFormat.Json => new JsonEventFormatter(nameSyscalls),
        EventFormat.Text => new TextEventFormatter(),
        EventFormat.Raw => new RawEventFormatter(),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };
}
