using WriteTracer.Bpf;

namespace WriteTracer.Events;

/// <summary>
/// --format raw: an event is the bytes its write captured, exactly as written, with nothing
/// before or after, so the output is what the traced processes wrote (the question
/// <c>strace -e write -s 99999 -p PID</c> otherwise answers). What --capture-bytes leaves out,
/// and a buffer the kernel could not read, is not there.
/// </summary>
internal sealed class RawEventFormatter : IEventFormatter
{
    public int TerminatorLength => 0;

    public int MaxLength(int captureBytes, bool withFdPath) => captureBytes;

    public int Format(in WriteEvent e, ReadOnlySpan<byte> data, long unixNanoseconds, Span<byte> destination,
        ReadOnlySpan<byte> fdPath = default, ReadOnlySpan<byte> cgroup = default)
    {
        data.CopyTo(destination);
        return data.Length;
    }
}
