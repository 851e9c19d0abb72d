namespace WriteTracer.Bpf;

/// <summary>Where the kernel program intercepts write(2) (<c>--attach</c>).</summary>
internal enum WriteHook
{
    /// <summary>syscalls:sys_enter_write: a stable ABI, but every write on the host takes the syscall-trace slow path.</summary>
    Tracepoint,

    /// <summary>
    /// The raw tracepoints sys_enter/sys_exit (tp_btf), dispatching on the syscall number: no perf
    /// buffer copy of the arguments, but every syscall of every task passes them while attached.
    /// </summary>
    Raw,

    /// <summary>fentry on ksys_write: a BPF trampoline, cheap for untracked writes; needs BTF-enabled trampolines.</summary>
    Fentry,
}
