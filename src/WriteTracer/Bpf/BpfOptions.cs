namespace WriteTracer.Bpf;

/// <summary>What the kernel program is configured with before it is loaded.</summary>
internal sealed record BpfOptions(
    int TracerPid,
    int CaptureBytes,
    IReadOnlyCollection<int> FileDescriptors,
    int RingBufferBytes,
    int MaxTrackedProcesses,
    IReadOnlyCollection<WriteSyscall> Syscalls,
    WriteHook Hook = WriteHook.Raw,
    CapturePoint CaptureAt = CapturePoint.Entry,
    bool ResolveFds = false,
    bool FailPending = false,
    bool Lifecycle = false,
    bool FailChanges = false)
{
    /// <summary>
    /// Set to 1, makes every per-thread storage request of --capture-at exit fail, so tests can
    /// show that such losses are counted (storage cannot be exhausted on purpose otherwise).
    /// </summary>
    public const string FailPendingVariable = "WRITE_TRACER_TEST_FAIL_PENDING";

    /// <summary>
    /// Set to 1, makes every report of a change to the tracked set fail as if its ring were full, so
    /// tests can show that such losses are counted and repaired by a walk of /proc.
    /// </summary>
    public const string FailChangesVariable = "WRITE_TRACER_TEST_FAIL_CHANGES";

    /// <summary>Unread bytes after which the kernel wakes the reader: an eighth of the ring.</summary>
    public ulong WakeupBytes => (ulong)RingBufferBytes / 8;
}
