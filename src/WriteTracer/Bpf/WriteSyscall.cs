namespace WriteTracer.Bpf;

/// <summary>The call of the write family that made an event (<c>WT_SYSCALL_*</c>).</summary>
internal enum WriteSyscall : ushort
{
    Write = 0,
    Writev = 1,
    Pwrite64 = 2,
    Pwritev = 3,
    Pwritev2 = 4,
}
