namespace WriteTracer.Bpf;

/// <summary>What the kernel program is configured with before it is loaded.</summary>
internal sealed record BpfOptions(
    int TracerPid,
    int CaptureBytes,
    IReadOnlyCollection<int> FileDescriptors,
    int RingBufferBytes,
    int MaxTrackedProcesses,
    IReadOnlyCollection<WriteSyscall> Syscalls,
    WriteHook Hook = WriteHook.Tracepoint,
    CapturePoint CaptureAt = CapturePoint.Entry,
    bool ResolveFds = false)
{
    /// <summary>Unread bytes after which the kernel wakes the reader: an eighth of the ring.</summary>
    public ulong WakeupBytes => (ulong)RingBufferBytes / 8;
}
