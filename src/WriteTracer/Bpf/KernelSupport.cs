using WriteTracer.Native;

namespace WriteTracer.Bpf;

/// <summary>
/// What this kernel offers the kernel program, found out before the object is opened, so
/// it is loaded once with the programs that will verify here (as libbpf-tools'
/// <c>tracepoint_exists</c> and <c>fentry_can_attach</c> do).
/// </summary>
internal sealed unsafe class KernelSupport
{
    private static readonly string[] TraceFsRoots = ["/sys/kernel/debug/tracing", "/sys/kernel/tracing"];

    private KernelSupport(bool fentry, bool rdonlyCast, bool loop, bool rawSyscalls)
    {
        CanAttachFentry = fentry;
        HasRdonlyCast = rdonlyCast;
        HasLoop = loop;
        HasRawSyscallTracepoints = rawSyscalls;
    }

    /// <summary>A tracing program may attach to ksys_write (some kernels refuse trampolines even to root).</summary>
    public bool CanAttachFentry { get; }

    /// <summary>The kfunc bpf_rdonly_cast (Linux 6.2+), for <see cref="FileIdentityReads.Btf"/>.</summary>
    public bool HasRdonlyCast { get; }

    /// <summary>The helper bpf_loop (Linux 5.17+), with which the vector calls' iovecs are walked.</summary>
    public bool HasLoop { get; }

    /// <summary>The raw tracepoints sys_enter and sys_exit have BTF (their btf_trace_ typedefs), for <see cref="WriteHook.Raw"/>.</summary>
    public bool HasRawSyscallTracepoints { get; }

    /// <summary>Probes what the options need: fentry only when asked for.</summary>
    public static KernelSupport Probe(bool fentry)
    {
        using var btf = Interop.Libbpf.BtfLoadVmlinux();
        var hasBtf = !btf.IsInvalid;
        return new KernelSupport(
            fentry: fentry && hasBtf && FentryCanLoad(btf, "ksys_write"),
            rdonlyCast: hasBtf && Interop.Libbpf.BtfFindByNameKind(btf, "bpf_rdonly_cast", Interop.Libbpf.BTF_KIND_FUNC) > 0,
            loop: Interop.Libbpf.ProbeHelper(Interop.Libbpf.BPF_PROG_TYPE_TRACEPOINT, Interop.Libbpf.BPF_FUNC_loop, null) == 1,
            rawSyscalls: hasBtf
                && Interop.Libbpf.BtfFindByNameKind(btf, "btf_trace_sys_enter", Interop.Libbpf.BTF_KIND_TYPEDEF) > 0
                && Interop.Libbpf.BtfFindByNameKind(btf, "btf_trace_sys_exit", Interop.Libbpf.BTF_KIND_TYPEDEF) > 0);
    }

    /// <summary>The tracepoint syscalls:NAME is in tracefs (syscalls the kernel lacks, or was built without, have none).</summary>
    public static bool TracepointExists(string name) =>
        TraceFsRoots.Any(root => Directory.Exists(Path.Combine(root, "events", "syscalls", name)));

    /// <summary>Loads an empty fentry program on the function; the kernel decides there whether trampolines are allowed.</summary>
    private static bool FentryCanLoad(SafeBtfHandle btf, string function)
    {
        var id = Interop.Libbpf.BtfFindByNameKind(btf, function, Interop.Libbpf.BTF_KIND_FUNC);
        if (id <= 0)
        {
            return false;
        }
        // r0 = 0; exit
        var instructions = stackalloc ulong[] { 0xb7, 0x95 };
        var options = new BpfProgramLoadOptions
        {
            Size = (nuint)sizeof(BpfProgramLoadOptions),
            ExpectedAttachType = Interop.Libbpf.BPF_TRACE_FENTRY,
            AttachBtfId = (uint)id,
        };
        var fd = Interop.Libbpf.ProgramLoad(Interop.Libbpf.BPF_PROG_TYPE_TRACING, "wt_fentry_probe", "Dual BSD/GPL",
            instructions, 2, &options);
        if (fd < 0)
        {
            return false;
        }
        new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true).Dispose();
        return true;
    }
}
