namespace WriteTracer.Tracking;

internal enum CgroupRegistrationStatus
{
    Registered,
    /// <summary>The path names nothing on the cgroup v2 hierarchy, or not a cgroup directory (<see cref="CgroupRegistration.Reason"/>).</summary>
    Invalid,
    NotFound,
    /// <summary>Restoring: the directory at the path is another cgroup than the one saved.</summary>
    Replaced,
    /// <summary>The caller may not trace this cgroup (<see cref="CgroupRegistration.Reason"/>).</summary>
    Forbidden,
    AlreadyRegistered,
    /// <summary>A registered cgroup above it already traces it (<see cref="CgroupRegistration.Cgroup"/>).</summary>
    Covered,
    /// <summary>The tracked-process map or the tracked_cgroups map is full.</summary>
    MapFull,
}

/// <summary>The outcome of registering a cgroup.</summary>
/// <param name="Path">The path as given.</param>
/// <param name="Cgroup">The registration (Registered, AlreadyRegistered) or the one covering it (Covered).</param>
/// <param name="Reason">Why the path is Invalid, or the registration Forbidden.</param>
internal readonly record struct CgroupRegistration(CgroupRegistrationStatus Status, string Path, RegisteredCgroup? Cgroup = null, string Reason = "")
{
    public string Describe() => Status switch
    {
        CgroupRegistrationStatus.Registered =>
            $"tracking cgroup {Cgroup!.Name} (id {Cgroup.Id}) with {Cgroup.ProcessCount} processes",
        CgroupRegistrationStatus.Invalid or CgroupRegistrationStatus.Forbidden => Reason,
        CgroupRegistrationStatus.NotFound => $"no such cgroup: {Path}",
        CgroupRegistrationStatus.Replaced => $"cgroup {Path} was removed and created again: it is another cgroup",
        CgroupRegistrationStatus.AlreadyRegistered => $"cgroup {Cgroup!.Name} is already registered",
        CgroupRegistrationStatus.Covered => $"cgroup {Path} is already traced as part of registered cgroup {Cgroup!.Name}",
        CgroupRegistrationStatus.MapFull =>
            $"cannot track cgroup {Path}: the kernel's map of tracked processes (--max-tracked-processes) or of cgroups is full",
        _ => Status.ToString(),
    };
}
