using WriteTracer.Diagnostics;

namespace WriteTracer.Tracking;

internal enum RegistrationStatus
{
    Registered,
    InvalidPid,
    /// <summary>Above the kernel's pid_max (<see cref="Registration.Limit"/>).</summary>
    OutOfRange,
    Self,
    /// <summary>The id of a thread, not a process; <see cref="Registration.RootPid"/> is its process.</summary>
    Thread,
    NotFound,
    AlreadyRegistered,
    /// <summary>Already traced as a descendant of another root (<see cref="Registration.RootPid"/>).</summary>
    AlreadyTracked,
    /// <summary>Already traced as a member of a registered cgroup (<see cref="Registration.Cgroup"/>).</summary>
    InCgroup,
    MapFull,
}

/// <summary>The outcome of registering a process.</summary>
/// <param name="RootPid">The registered root tracking it (AlreadyRegistered, AlreadyTracked), or the process a thread id belongs to (Thread).</param>
/// <param name="Limit">The kernel's pid_max, for OutOfRange.</param>
/// <param name="Cgroup">The registered cgroup tracing it, for InCgroup.</param>
internal readonly record struct Registration(RegistrationStatus Status, int Pid, int RootPid = 0, RootProcess? Root = null, int Limit = 0,
    string? Cgroup = null)
{
    public string Describe() => Status switch
    {
        RegistrationStatus.Registered =>
            $"tracking process {Pid} ({Root!.Comm}) with {Plural.Count(Root.ThreadCount, "thread", "threads")} in {Plural.Count(Root.ProcessCount, "process", "processes")}",
        RegistrationStatus.InvalidPid => $"pid {Pid} is not a positive process id",
        RegistrationStatus.OutOfRange => $"pid {Pid} is out of range: process ids go from 1 to {Limit} (kernel.pid_max)",
        RegistrationStatus.Self => $"pid {Pid} is the tracer itself, which never traces itself",
        RegistrationStatus.Thread => $"{Pid} is a thread of process {RootPid}, not a process: register {RootPid}",
        RegistrationStatus.NotFound => $"no such process: {Pid}",
        RegistrationStatus.AlreadyRegistered => $"process {Pid} is already registered",
        RegistrationStatus.AlreadyTracked => $"process {Pid} is already tracked as a descendant of registered process {RootPid}",
        RegistrationStatus.InCgroup => $"process {Pid} is already tracked as a member of registered cgroup {Cgroup}",
        RegistrationStatus.MapFull => $"cannot track process {Pid}: the tracked-process map is full (--max-tracked-processes)",
        _ => Status.ToString(),
    };
}
