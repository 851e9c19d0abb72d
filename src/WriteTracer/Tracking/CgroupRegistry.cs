using Serilog;
using WriteTracer.Bpf;

namespace WriteTracer.Tracking;

/// <summary>
/// The registry of traced cgroups, kept in step with the kernel. Registering puts the
/// cgroup in the tracked_cgroups map, whose hooks then track every process that forks
/// inside it or is moved into it (and untrack those moved out), and adds the processes
/// already in its subtree to the tracked map. Every tracking interval reconciles: a
/// cgroup removed is unregistered, dead members are dropped, members missed are added
/// and counts updated. Processes a pid registration traces keep it (the first made).
/// </summary>
internal sealed class CgroupRegistry(CgroupHierarchy? hierarchy, ITrackedMap map, ICgroupMap cgroups, CgroupNames names,
    ProcFs proc, int selfPid, Action<bool> setTracing, TimeProvider? time = null)
{
    /// <summary>The line a cgroup v1-only host answers every registration with.</summary>
    public const string NoCgroupV2 =
        "this host has no cgroup v2 hierarchy (no cgroup2 mount in /proc/self/mountinfo): cgroups can be traced on cgroup v2 (unified or hybrid) hosts only";

    private readonly Dictionary<ulong, RegisteredCgroup> _cgroups = [];
    private readonly Lock _lock = new();
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The names events show for the registrations' ids.</summary>
    public CgroupNames Names => names;

    public int Count
    {
        get { lock (_lock) return _cgroups.Count; }
    }

    /// <summary>
    /// Registers the cgroup PATH names (see <see cref="CgroupHierarchy.TryResolve"/>).
    /// callerUid is null for an administrator; any other caller must own the cgroup's
    /// directory, and only its own processes (real, effective and saved uid) are traced.
    /// </summary>
    public CgroupRegistration Register(string path, uint? callerUid = null)
    {
        if (hierarchy is null)
        {
            return new(CgroupRegistrationStatus.Invalid, path, Reason: NoCgroupV2);
        }
        if (!hierarchy.TryResolve(path, out var cgroup, out var reason))
        {
            return new(CgroupRegistrationStatus.Invalid, path, Reason: reason);
        }
        if (!CgroupHierarchy.TryStat(cgroup, out var id, out var ownerUid, out var exists))
        {
            return exists
                ? new(CgroupRegistrationStatus.Invalid, path, Reason: $"'{path}' is not a cgroup directory ({cgroup.Directory})")
                : new(CgroupRegistrationStatus.NotFound, path);
        }
        if (callerUid is { } uid && uid != ownerUid)
        {
            return new(CgroupRegistrationStatus.Forbidden, path,
                Reason: $"uid {uid} may not trace cgroup {cgroup.Name} (its directory is owned by uid {ownerUid})");
        }
        lock (_lock)
        {
            if (_cgroups.TryGetValue(id, out var registered))
            {
                return new(CgroupRegistrationStatus.AlreadyRegistered, path, registered);
            }
            if (_cgroups.Values.FirstOrDefault(c => c.Covers(cgroup)) is { } covering)
            {
                return new(CgroupRegistrationStatus.Covered, path, covering);
            }
            var registration = new RegisteredCgroup(cgroup, id, names.Allocate(cgroup.Name), callerUid, _time.GetUtcNow());
            // Hooks first, so whatever forks inside or moves in from now on is tracked in the kernel.
            setTracing(true);
            if (cgroups.TryAdd(id, registration.Registration, Flags(registration) & TrackedProcess.UnprivilegedFlag, callerUid ?? 0)
                != TrackedMapResult.Added || AddMembers(registration) == TrackedMapResult.Full)
            {
                cgroups.Remove(id);
                map.RemoveAll(registration.Registration);
                UpdateTracing();
                return new(CgroupRegistrationStatus.MapFull, path);
            }
            _cgroups.Add(id, registration);
            Recount();
            return new(CgroupRegistrationStatus.Registered, path, registration);
        }
    }

    /// <summary>Unregisters the cgroup with this id and untracks its processes; null when none is registered.</summary>
    public RegisteredCgroup? Unregister(ulong id)
    {
        lock (_lock)
        {
            if (!_cgroups.TryGetValue(id, out var registered))
            {
                return null;
            }
            Remove(registered);
            Recount();
            return registered;
        }
    }

    /// <summary>The registered cgroup PATH names; null when it is not registered (or names no cgroup).</summary>
    public RegisteredCgroup? Find(string path)
    {
        if (hierarchy is null || !hierarchy.TryResolve(path, out var cgroup, out _))
        {
            return null;
        }
        lock (_lock)
        {
            return _cgroups.Values.FirstOrDefault(c => c.Name == cgroup.Name);
        }
    }

    public RegisteredCgroup? Find(ulong id)
    {
        lock (_lock)
        {
            return _cgroups.GetValueOrDefault(id);
        }
    }

    public IReadOnlyList<RegisteredCgroup> Cgroups()
    {
        lock (_lock)
        {
            return [.. _cgroups.Values.OrderBy(c => c.RegisteredAt).ThenBy(c => c.Name, StringComparer.Ordinal)];
        }
    }

    /// <summary>One tracking-interval pass (see the class summary).</summary>
    public void Reconcile()
    {
        lock (_lock)
        {
            foreach (var registered in _cgroups.Values.ToList())
            {
                if (!CgroupHierarchy.TryStat(registered.Path, out var id, out _, out _) || id != registered.Id)
                {
                    Log.Information("cgroup {Cgroup} was removed; unregistered", registered.Name);
                    Remove(registered);
                }
            }
            var live = _cgroups.Values.Select(c => c.Registration).ToHashSet();
            foreach (var (pid, root) in map.Snapshot())
            {
                if (CgroupNames.IsCgroupRegistration(root) && (!live.Contains(root) || !proc.IsAlive(pid, out _)))
                {
                    map.Remove(pid);
                }
            }
            foreach (var registered in _cgroups.Values)
            {
                if (AddMembers(registered) == TrackedMapResult.Full)
                {
                    Log.Warning("the tracked-process map is full: some processes of cgroup {Cgroup} are not traced", registered.Name);
                }
            }
            Recount();
        }
    }

    private static uint Flags(RegisteredCgroup registered) =>
        TrackedProcess.CgroupFlag | (registered.OwnerUid is null ? 0 : TrackedProcess.UnprivilegedFlag);

    /// <summary>
    /// Adds the processes of the cgroup's subtree that the map lacks, repeated until a
    /// pass adds nothing: a process forked before its parent entered the map is listed by
    /// the next pass. A process traced already keeps its registration (the first made).
    /// </summary>
    private TrackedMapResult AddMembers(RegisteredCgroup registered)
    {
        bool addedAny;
        do
        {
            addedAny = false;
            foreach (var pid in CgroupHierarchy.Processes(registered.Path))
            {
                if (pid == selfPid || map.TryGetRoot(pid, out _) || !MayJoin(registered, pid))
                {
                    continue;
                }
                switch (map.TryAdd(pid, registered.Registration, Flags(registered)))
                {
                    case TrackedMapResult.Full:
                        return TrackedMapResult.Full;
                    case TrackedMapResult.Added when !IsMember(registered, pid):
                        // Moved out (or exited) between the listing and the update: the kernel had nothing to untrack then.
                        map.Remove(pid);
                        break;
                    case TrackedMapResult.Added:
                        addedAny = true;
                        break;
                }
            }
        }
        while (addedAny);
        return TrackedMapResult.Added;
    }

    /// <summary>The kernel's rule (may_join): a non-administrator's registration takes only the caller's own processes.</summary>
    private bool MayJoin(RegisteredCgroup registered, int pid) =>
        proc.IsAlive(pid, out _)
        && (registered.OwnerUid is not { } uid || (proc.TryReadUids(pid, out var uids) && uids.Real == uid && uids.Effective == uid && uids.Saved == uid));

    private bool IsMember(RegisteredCgroup registered, int pid) =>
        proc.IsAlive(pid, out _) && proc.TryReadCgroup(pid, out var name) && registered.Covers(new CgroupPath(name, ""));

    private void Remove(RegisteredCgroup registered)
    {
        _cgroups.Remove(registered.Id);
        // The kernel first, so nothing joins while the members go.
        cgroups.Remove(registered.Id);
        map.RemoveAll(registered.Registration);
        // A registered cgroup above it takes over its processes.
        foreach (var covering in _cgroups.Values.Where(c => c.Covers(registered.Path)))
        {
            AddMembers(covering);
        }
        UpdateTracing();
    }

    private void UpdateTracing() => setTracing(_cgroups.Count > 0);

    private void Recount()
    {
        var perRegistration = _cgroups.Values.ToDictionary(c => c.Registration, _ => 0);
        foreach (var (_, root) in map.Snapshot())
        {
            if (perRegistration.TryGetValue(root, out var count))
            {
                perRegistration[root] = count + 1;
            }
        }
        foreach (var registered in _cgroups.Values)
        {
            registered.ProcessCount = perRegistration[registered.Registration];
        }
    }
}
