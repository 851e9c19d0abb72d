using System.Reflection;
using System.Runtime.InteropServices;
using Serilog;
using WriteTracer.Native;

namespace WriteTracer.Bpf;

/// <summary>
/// The loaded kernel program: its maps, and its programs (the process lifecycle, and the
/// write family's hooks --syscalls chose) attached as a unit while anything is tracked (an
/// attached syscall tracepoint slows every such call on the host, so an idle tracer keeps
/// them detached).
/// </summary>
internal sealed unsafe class BpfTracer : IDisposable
{
    /// <summary>Every write program of the object: three tracepoint programs per syscall, and write(2)'s fentry pair.</summary>
    private static readonly string[] WritePrograms =
    [
        .. WriteSyscalls.All.SelectMany(s => new[] { $"handle_{s.Name()}", $"handle_{s.Name()}_entry", $"handle_{s.Name()}_exit" }),
        "handle_sys_enter", "handle_sys_enter_hold", "handle_sys_exit",
        "handle_write_fentry", "handle_write_fexit",
    ];

    private readonly SafeBpfObjectHandle _object;
    private readonly List<SafeBpfLinkHandle> _links = [];
    private readonly Lock _attachLock = new();
    private readonly int _countersFd;
    private readonly int _possibleCpus;
    private readonly string[] _programsInAttachOrder;
    private readonly TrackedGeneration _trackedGeneration;

    private BpfTracer(SafeBpfObjectHandle obj, WriteHook hook, string[] writePrograms)
    {
        _object = obj;
        Hook = hook;
        // Fork, exit, exec and cgroup moves first, write last: a process is never traced without its
        // children being inherited, nor without the privilege rule at exec (the design, "tracked_process.flags").
        _programsInAttachOrder = ["handle_fork", "handle_exit", "handle_exec", "handle_cgroup_attach", "handle_cgroup_rmdir", .. writePrograms];
        _trackedGeneration = new TrackedGeneration(Interop.Libbpf.MapFd(FindMap(obj, "tracked_generation")));
        Tracked = new TrackedProcessMap(Interop.Libbpf.MapFd(FindMap(obj, "tracked")), _trackedGeneration);
        TrackedCgroups = new TrackedCgroupMap(Interop.Libbpf.MapFd(FindMap(obj, "tracked_cgroups")));
        var events = FindMap(obj, "events");
        EventsMapFd = Interop.Libbpf.MapFd(events);
        EventsRingBytes = (int)Interop.Libbpf.MapMaxEntries(events);
        var changes = FindMap(obj, "changes");
        ChangesMapFd = Interop.Libbpf.MapFd(changes);
        ChangesRingBytes = (int)Interop.Libbpf.MapMaxEntries(changes);
        _countersFd = Interop.Libbpf.MapFd(FindMap(obj, "counters"));
        _possibleCpus = Interop.Libbpf.NumPossibleCpus();
    }

    public TrackedProcessMap Tracked { get; }

    /// <summary>The registered cgroups, whose members the fork and cgroup-attach hooks keep in <see cref="Tracked"/>.</summary>
    public TrackedCgroupMap TrackedCgroups { get; }

    /// <summary>The write hook in use (fentry falls back to the tracepoint where the kernel lacks it).</summary>
    public WriteHook Hook { get; }

    /// <summary>The ring buffer map, for <see cref="RingBuffer"/>.</summary>
    public int EventsMapFd { get; }

    /// <summary>The size of the ring buffer's data area.</summary>
    public int EventsRingBytes { get; }

    /// <summary>The ring of the kernel's reports of changes to the tracked set (struct tracking_change), for the registry's <see cref="RingBuffer"/>.</summary>
    public int ChangesMapFd { get; }

    public int ChangesRingBytes { get; }

    public bool IsAttached
    {
        get { lock (_attachLock) return _links.Count > 0; }
    }

    /// <summary>
    /// Probes what the kernel supports, then opens, configures and loads the object once,
    /// with autoload set on exactly the programs the options need.
    /// </summary>
    public static BpfTracer Load(BpfOptions options)
    {
        LibbpfLog.Install();
        var support = KernelSupport.Probe(fentry: options.Hook == WriteHook.Fentry);
        var hook = options.Hook;
        if (hook == WriteHook.Fentry && !support.CanAttachFentry)
        {
            Log.Warning("fentry on ksys_write is unavailable (the kernel refuses the trampoline); using the syscall tracepoints");
            hook = WriteHook.Tracepoint;
        }
        if (hook == WriteHook.Raw && !support.HasRawSyscallTracepoints)
        {
            Log.Warning("the raw tracepoints sys_enter and sys_exit are not in this kernel's BTF; using the syscall tracepoints");
            hook = WriteHook.Tracepoint;
        }
        if (!support.HasLoop && options.Syscalls.Where(s => s.IsVector()).ToList() is [var vector, ..])
        {
            throw new BpfException($"--syscalls {vector.Name()}: the vector calls need the bpf_loop helper (Linux 5.17 or newer)", 0);
        }
        var chosen = WriteProgramsFor(hook, options.CaptureAt, options.Syscalls);
        var fileIdentity = !options.ResolveFds ? FileIdentityReads.None
            : support.HasRdonlyCast ? FileIdentityReads.Btf : FileIdentityReads.Probe;
        return Load(options, hook, fileIdentity, chosen);
    }

    private static BpfTracer Load(BpfOptions options, WriteHook hook, FileIdentityReads fileIdentity, string[] chosen)
    {
        var image = ReadEmbeddedObject();
        SafeBpfObjectHandle obj;
        fixed (byte* bytes = image)
        {
            obj = Interop.Libbpf.ObjectOpenMem(bytes, (nuint)image.Length, null);
        }
        if (obj.IsInvalid)
        {
            throw BpfException.From("opening the BPF object", Marshal.GetLastPInvokeError());
        }

        try
        {
            Configure(obj, options, fileIdentity);
            // Only the chosen write hooks are loaded: the others may not even verify on this kernel.
            foreach (var program in WritePrograms.Except(chosen))
            {
                Check(Interop.Libbpf.ProgramSetAutoload(FindProgram(obj, program), false), "configuring the BPF program");
            }
            Check(Interop.Libbpf.ObjectLoad(obj), "loading the BPF program");
            // Map fds exist only once the object is loaded.
            var tracer = new BpfTracer(obj, hook, chosen);
            tracer.FillFdFilter(options.FileDescriptors);
            return tracer;
        }
        catch
        {
            obj.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The write programs of a hook, capture point and set of syscalls, in attach order (exit
    /// before entry). The raw tracepoints take every call of the family (the program dispatches
    /// on cfg.syscalls); fentry covers write(2) alone; the rest of the family is traced at its
    /// syscall tracepoints, which must exist.
    /// </summary>
    private static string[] WriteProgramsFor(WriteHook hook, CapturePoint at, IReadOnlyCollection<WriteSyscall> syscalls)
    {
        if (hook == WriteHook.Raw)
        {
            return at == CapturePoint.Entry ? ["handle_sys_enter"] : ["handle_sys_exit", "handle_sys_enter_hold"];
        }
        var programs = new List<string>();
        foreach (var syscall in syscalls)
        {
            var name = syscall.Name();
            if (hook == WriteHook.Fentry && syscall == WriteSyscall.Write)
            {
                programs.Add(at == CapturePoint.Entry ? "handle_write_fentry" : "handle_write_fexit");
                continue;
            }
            foreach (var tracepoint in at == CapturePoint.Entry ? [$"sys_enter_{name}"] : new[] { $"sys_exit_{name}", $"sys_enter_{name}" })
            {
                if (!KernelSupport.TracepointExists(tracepoint))
                {
                    throw new BpfException($"--syscalls {name}: this kernel has no tracepoint syscalls:{tracepoint}", 0);
                }
            }
            programs.AddRange(at == CapturePoint.Entry ? [$"handle_{name}"] : [$"handle_{name}_exit", $"handle_{name}_entry"]);
        }
        return [.. programs];
    }

    /// <summary>Attaches the programs if they are not attached (idempotent).</summary>
    public void Attach()
    {
        lock (_attachLock)
        {
            if (_links.Count > 0)
            {
                return;
            }
            try
            {
                foreach (var name in _programsInAttachOrder)
                {
                    var link = Interop.Libbpf.ProgramAttach(FindProgram(_object, name));
                    if (link.IsInvalid)
                    {
                        throw BpfException.From($"attaching {name}", Marshal.GetLastPInvokeError());
                    }
                    _links.Add(link);
                }
            }
            catch
            {
                DetachLocked();
                throw;
            }
        }
    }

    /// <summary>Detaches the programs: the write hook first, so nothing is emitted half-tracked.</summary>
    public void Detach()
    {
        lock (_attachLock)
        {
            DetachLocked();
        }
    }

    /// <summary>Sums one per-CPU counter over every CPU.</summary>
    public ulong ReadCounter(BpfCounter counter)
    {
        var key = (uint)counter;
        Span<ulong> values = stackalloc ulong[_possibleCpus];
        fixed (ulong* v = values)
        {
            if (Interop.Libbpf.MapLookupElem(_countersFd, &key, v) != 0)
            {
                return 0;
            }
        }
        ulong sum = 0;
        foreach (var value in values)
        {
            sum += value;
        }
        return sum;
    }

    public void Dispose()
    {
        Detach();
        _trackedGeneration.Dispose();
        _object.Dispose();
    }

    private void DetachLocked()
    {
        for (var i = _links.Count - 1; i >= 0; i--)
        {
            _links[i].Dispose();
        }
        _links.Clear();
    }

    private static void Configure(SafeBpfObjectHandle obj, BpfOptions options, FileIdentityReads fileIdentity)
    {
        var config = new BpfConfig
        {
            TracerTgid = (uint)options.TracerPid,
            CaptureBytes = (uint)options.CaptureBytes,
            FilterFds = options.FileDescriptors.Count > 0 ? 1u : 0u,
            ResolveFds = fileIdentity,
            WakeupBytes = options.WakeupBytes,
            Syscalls = options.Syscalls.Aggregate(0u, (mask, syscall) => mask | 1u << (int)syscall),
            FailPending = options.FailPending ? 1u : 0u,
            Lifecycle = options.Lifecycle ? 1u : 0u,
            FailChanges = options.FailChanges ? 1u : 0u,
        };
        Check(Interop.Libbpf.MapSetInitialValue(FindRodata(obj), &config, (nuint)sizeof(BpfConfig)),
            "configuring the BPF program");
        Check(Interop.Libbpf.MapSetMaxEntries(FindMap(obj, "events"), (uint)options.RingBufferBytes),
            "sizing the ring buffer");
        Check(Interop.Libbpf.MapSetMaxEntries(FindMap(obj, "tracked"), (uint)options.MaxTrackedProcesses),
            "sizing the tracked map");
    }

    private void FillFdFilter(IReadOnlyCollection<int> fds)
    {
        var fd = Interop.Libbpf.MapFd(FindMap(_object, "fd_filter"));
        byte present = 1;
        foreach (var descriptor in fds)
        {
            var key = descriptor;
            Check(Interop.Libbpf.MapUpdateElem(fd, &key, &present, Interop.Libbpf.BPF_ANY), "filling the fd filter");
        }
    }

    private static nint FindMap(SafeBpfObjectHandle obj, string name)
    {
        var map = Interop.Libbpf.ObjectFindMapByName(obj, name);
        return map != 0 ? map : throw new BpfException($"the BPF object has no map '{name}'", 0);
    }

    private static nint FindProgram(SafeBpfObjectHandle obj, string name)
    {
        var program = Interop.Libbpf.ObjectFindProgramByName(obj, name);
        return program != 0 ? program : throw new BpfException($"the BPF object has no program '{name}'", 0);
    }

    /// <summary>libbpf names the read-only data map after the object ("write_tr.rodata").</summary>
    private static nint FindRodata(SafeBpfObjectHandle obj)
    {
        for (var map = Interop.Libbpf.ObjectNextMap(obj, 0); map != 0; map = Interop.Libbpf.ObjectNextMap(obj, map))
        {
            var name = Marshal.PtrToStringUTF8((nint)Interop.Libbpf.MapName(map));
            if (name is not null && name.EndsWith(".rodata", StringComparison.Ordinal))
            {
                return map;
            }
        }
        throw new BpfException("the BPF object has no .rodata map", 0);
    }

    private static byte[] ReadEmbeddedObject()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("write_tracer.bpf.o")
            ?? throw new BpfException("the BPF object is not embedded in this build", 0);
        var image = new byte[stream.Length];
        stream.ReadExactly(image);
        return image;
    }

    private static void Check(int result, string operation)
    {
        if (result < 0)
        {
            throw BpfException.From(operation, -result);
        }
    }
}
