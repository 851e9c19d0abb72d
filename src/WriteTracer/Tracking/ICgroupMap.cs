namespace WriteTracer.Tracking;

/// <summary>The kernel's registered cgroups (cgroup v2 id → registration); an interface so the registry is testable without BPF.</summary>
internal interface ICgroupMap
{
    /// <summary>Adds the cgroup unless present; flags and uid as in struct tracked_cgroup.</summary>
    TrackedMapResult TryAdd(ulong cgroupId, int registration, uint flags, uint uid);

    /// <summary>Removes the cgroup; false when it was not present.</summary>
    bool Remove(ulong cgroupId);
}
