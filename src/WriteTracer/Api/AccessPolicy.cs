using WriteTracer.Tracking;

namespace WriteTracer.Api;

/// <summary>
/// Who may trace what (the design, "Authorization"): administrators (the token, uid 0, a
/// Unix-socket caller holding CAP_SYS_PTRACE) anything; anyone else what ptrace would let
/// them trace. Also the translation of pids between the caller's pid namespace and the tracer's.
/// </summary>
internal sealed class AccessPolicy(ProcFs proc, int tracerPid)
{
    /// <summary>How deep the tracer's own pid namespace is (NSpid entries): a caller with more is in a namespace below it.</summary>
    private readonly int _tracerDepth = proc.TryReadStatus(tracerPid, out var status) ? status.NamespacePids.Count : 1;

    public ProcFs Proc => proc;

    /// <summary>
    /// The token, uid 0, or over the Unix socket CAP_SYS_PTRACE in the caller's effective set.
    /// The capability is read from the caller's status only while that pid still runs as the
    /// uid the kernel reported, so a pid reused by another user's process lends it nothing.
    /// </summary>
    public bool IsAdministrator(bool tokenHolder, CallerTransport transport, int? uid, int? pid) =>
        tokenHolder || uid == 0
        || (transport == CallerTransport.UnixSocket && pid is { } caller && proc.TryReadStatus(caller, out var status)
            && status.RealUid == uid && status.HasCapability(ProcessStatus.CapSysPtrace));

    /// <summary>Null when caller may trace pid, else why not; startTime: the process that was judged (see <see cref="TracePermission"/>).</summary>
    public string? RefuseTrace(Caller caller, int pid, out ulong? startTime)
    {
        startTime = null;
        if (caller.Administrator)
        {
            return null;
        }
        return caller.Uid is { } uid ? TracePermission.Refusal(proc, uid, pid, out startTime) : UnknownCaller(caller);
    }

    /// <summary>Null when caller may stop tracing root: an administrator, who registered it, or its owner.</summary>
    public string? RefuseUntrack(Caller caller, RootProcess root)
    {
        if (caller.Administrator)
        {
            return null;
        }
        if (caller.Uid is not { } uid)
        {
            return UnknownCaller(caller);
        }
        if (root.Registrant.Uid == uid || (proc.TryReadStatus(root.Pid, out var status) && status.RealUid == uid))
        {
            return null;
        }
        var owner = status is null ? "" : $" and owned by uid {status.RealUid}";
        return $"uid {uid} may not stop tracing process {root.Pid} (registered by {Describe(root.Registrant)}{owner})";
    }

    /// <summary>
    /// Null when caller may register the cgroup: an administrator, or the owner of its
    /// directory (systemd delegates user@UID.service so). What such a registration traces
    /// is what the owner may trace (<see cref="CgroupRegistry"/>).
    /// </summary>
    public string? RefuseCgroup(Caller caller, CgroupPath cgroup, uint ownerUid)
    {
        if (caller.Administrator)
        {
            return null;
        }
        if (caller.Uid is not { } uid)
        {
            return UnknownCaller(caller);
        }
        return uid == ownerUid ? null : $"uid {uid} may not trace cgroup {cgroup.Name} (its directory is owned by uid {ownerUid})";
    }

    /// <summary>Null when caller may stop tracing the cgroup: an administrator, who registered it, or its directory's owner.</summary>
    public string? RefuseCgroupUntrack(Caller caller, RegisteredCgroup cgroup)
    {
        if (caller.Administrator)
        {
            return null;
        }
        if (caller.Uid is not { } uid)
        {
            return UnknownCaller(caller);
        }
        if (cgroup.Registrant.Uid == uid || (CgroupHierarchy.TryStat(cgroup.Path, out _, out var owner, out _) && owner == uid))
        {
            return null;
        }
        return $"uid {uid} may not stop tracing cgroup {cgroup.Name} (registered by {Describe(cgroup.Registrant)})";
    }

    /// <summary>The caller's status, when its pid is known; says which pid namespace it sees.</summary>
    public ProcessStatus? StatusOf(int? pid) => pid is { } known && proc.TryReadStatus(known, out var status) ? status : null;

    /// <summary>True when the caller sees its own pid namespace, below the tracer's: its pids mean other processes.</summary>
    public bool InOtherNamespace(ProcessStatus caller) => caller.NamespacePids.Count > _tracerDepth;

    /// <summary>
    /// The tracer's pid of the process the caller calls nsPid: the one whose NSpid has nsPid at
    /// the caller's depth, in the caller's own namespace where the tracer can read namespaces.
    /// Null when there is none, or more than one.
    /// </summary>
    public int? Translate(int callerPid, ProcessStatus caller, int nsPid)
    {
        var depth = caller.NamespacePids.Count;
        var callerNamespace = proc.PidNamespace(callerPid);
        var matches = new List<int>();
        foreach (var pid in proc.Processes())
        {
            if (proc.TryReadStatus(pid, out var status) && status.NamespacePids.Count >= depth
                && status.NamespacePids[depth - 1] == nsPid
                && (callerNamespace is null || proc.PidNamespace(pid) == callerNamespace))
            {
                matches.Add(pid);
            }
        }
        return matches.Count == 1 ? matches[0] : null;
    }

    /// <summary>pid as the caller's namespace numbers it; null when it is outside that namespace.</summary>
    public int? NamespacePidOf(int pid, ProcessStatus caller) =>
        proc.TryReadStatus(pid, out var status) && status.NamespacePids.Count >= caller.NamespacePids.Count
            ? status.NamespacePids[caller.NamespacePids.Count - 1]
            : null;

    public static string Describe(Registrant registrant) => registrant.Uid >= 0 ? $"uid {registrant.Uid}" : "the token holder";

    private static string UnknownCaller(Caller caller) => caller.Transport == CallerTransport.Loopback
        ? "the kernel lists no owner for this connection's socket, so the caller cannot be identified; use the Unix socket (--rest-socket)"
        : "the caller cannot be identified: present the --api-token-file token";
}
