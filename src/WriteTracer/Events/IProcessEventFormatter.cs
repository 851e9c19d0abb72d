using WriteTracer.Bpf;

namespace WriteTracer.Events;

/// <summary>
/// A format that carries lifecycle events (--lifecycle): exec and exit, as lines among the
/// writes. JSON and text do; raw does not (it carries only written bytes).
/// </summary>
internal interface IProcessEventFormatter
{
    /// <summary>
    /// Writes the line and its newline into destination, sized for the format's
    /// <see cref="IEventFormatter.MaxLength"/> at the same --capture-bytes (argv is capped as
    /// data is); returns the length without the newline. cgroup names the registered cgroup
    /// of an event with <see cref="ProcessEvent.CgroupRoot"/>.
    /// </summary>
    int Format(in ProcessEvent e, ReadOnlySpan<byte> argv, long unixNanoseconds, Span<byte> destination, ReadOnlySpan<byte> cgroup = default);
}
