namespace WriteTracer.Bpf;

/// <summary>When a write's buffer is captured (<c>--capture-at</c>).</summary>
internal enum CapturePoint
{
    /// <summary>At syscall entry: one hook, the cheapest.</summary>
    Entry,

    /// <summary>
    /// At syscall exit: the event carries write(2)'s result, and the buffer is resident
    /// (the kernel has just read it), so paged-out buffers are still captured.
    /// </summary>
    Exit,
}
