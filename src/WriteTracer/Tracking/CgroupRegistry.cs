using Serilog;
using WriteTracer.Bpf;

namespace WriteTracer.Tracking;

/// <summary>
/// The registry of traced cgroups, kept in step with the kernel. Registering puts the
/// cgroup in the tracked_cgroups map, whose hooks then track every process that forks
/// inside it or is moved into it (and untrack those moved out), and adds the processes
/// already in its subtree to the tracked map; the kernel reports each of those changes, which
/// keep the counts (<see cref="TrackedSet"/>). In a walk (<see cref="Reconcile"/>) a cgroup
/// removed is unregistered and members missed are added. Processes a pid registration traces
/// keep it (the first made). cgroupsChanged sees the registered cgroups after every change
/// (the state file).
/// </summary>
internal sealed class CgroupRegistry(CgroupHierarchy? hierarchy, TrackedSet members, ICgroupMap cgroups, CgroupNames names,
    ProcFs proc, int selfPid, Action<bool> setTracing, TimeProvider? time = null,
    Action<IReadOnlyList<RegisteredCgroup>>? cgroupsChanged = null)
{
    /// <summary>The line a cgroup v1-only host answers every registration with.</summary>
    public const string NoCgroupV2 =
        "this host has no cgroup v2 hierarchy (no cgroup2 mount in /proc/self/mountinfo): cgroups can be traced on cgroup v2 (unified or hybrid) hosts only";

    private readonly Dictionary<ulong, RegisteredCgroup> _cgroups = [];
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The names events show for the registrations' ids.</summary>
    public CgroupNames Names => names;

    public int Count
    {
        get { lock (members.Lock) return _cgroups.Count; }
    }

    /// <summary>
    /// Registers the cgroup PATH names (see <see cref="CgroupHierarchy.TryResolve"/>).
    /// refuse says, given the cgroup and its directory's owner, why the caller may not
    /// (null: it may). A registration by a non-administrator traces only the processes its
    /// registrant could trace (<see cref="TracePermission"/>), in the kernel as here.
    /// </summary>
    public CgroupRegistration Register(string path, Registrant registrant, Func<CgroupPath, uint, string?>? refuse = null) =>
        Register(path, registrant, refuse, expectedId: null, registeredAt: null);

    /// <summary>
    /// Registers again the cgroups a previous run saved that still exist (same cgroup id),
    /// with their registrants and registration times; logs one line per cgroup restored or dropped.
    /// </summary>
    public void Restore(IEnumerable<SavedCgroup> saved)
    {
        foreach (var cgroup in saved)
        {
            var registrant = new Registrant(cgroup.RegisteredByUid, cgroup.Administrator);
            var registration = Register(cgroup.Path, registrant, refuse: null, cgroup.Id, new DateTimeOffset(cgroup.RegisteredAt, TimeSpan.Zero));
            var outcome = registration.Status switch
            {
                CgroupRegistrationStatus.Registered => $"restored with {registration.Cgroup!.ProcessCount} processes",
                CgroupRegistrationStatus.NotFound => "removed; dropped",
                CgroupRegistrationStatus.Replaced => "removed (the cgroup created again at that path is another one); dropped",
                _ => $"not restored: {registration.Describe()}",
            };
            Log.Information("state file: cgroup {Cgroup} (id {Id}, registered by {Registrant}): {Outcome}",
                cgroup.Path, cgroup.Id, registrant.Administrator ? "an administrator" : $"uid {registrant.Uid}", outcome);
        }
    }

    private CgroupRegistration Register(string path, Registrant registrant, Func<CgroupPath, uint, string?>? refuse,
        ulong? expectedId, DateTimeOffset? registeredAt)
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
        if (expectedId is { } expected && expected != id)
        {
            return new(CgroupRegistrationStatus.Replaced, path);
        }
        if (refuse?.Invoke(cgroup, ownerUid) is { } refusal)
        {
            return new(CgroupRegistrationStatus.Forbidden, path, Reason: refusal);
        }
        lock (members.Lock)
        {
            // Removed (and maybe created again: a restarted service) since the last walk: that registration goes now.
            foreach (var removed in _cgroups.Values.Where(c => c.Covers(cgroup) && !Exists(c)).ToList())
            {
                DropRemoved(removed);
            }
            if (_cgroups.TryGetValue(id, out var registered))
            {
                return new(CgroupRegistrationStatus.AlreadyRegistered, path, registered);
            }
            if (_cgroups.Values.FirstOrDefault(c => c.Covers(cgroup)) is { } covering)
            {
                return new(CgroupRegistrationStatus.Covered, path, covering);
            }
            var registration = new RegisteredCgroup(cgroup, id, names.Allocate(cgroup.Name), registrant, registeredAt ?? _time.GetUtcNow());
            // Hooks first, so whatever forks inside or moves in from now on is tracked in the kernel.
            setTracing(true);
            registration.Members = members.Open(registration.Registration);
            if (cgroups.TryAdd(id, registration.Registration, registrant.Administrator ? 0 : TrackedProcess.UnprivilegedFlag, (uint)Math.Max(registrant.Uid, 0))
                != TrackedMapResult.Added || AddMembers(registration) == Adoption.Full)
            {
                cgroups.Remove(id);
                members.Close(registration.Registration);
                UpdateTracing();
                return new(CgroupRegistrationStatus.MapFull, path);
            }
            _cgroups.Add(id, registration);
            CgroupsChanged();
            return new(CgroupRegistrationStatus.Registered, path, registration);
        }
    }

    /// <summary>Unregisters the cgroup with this id and untracks its processes; null when none is registered.</summary>
    public RegisteredCgroup? Unregister(ulong id)
    {
        lock (members.Lock)
        {
            if (!_cgroups.TryGetValue(id, out var registered))
            {
                return null;
            }
            Remove(registered);
            CgroupsChanged();
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
        lock (members.Lock)
        {
            return _cgroups.Values.FirstOrDefault(c => c.Name == cgroup.Name);
        }
    }

    public RegisteredCgroup? Find(ulong id)
    {
        lock (members.Lock)
        {
            return _cgroups.GetValueOrDefault(id);
        }
    }

    public IReadOnlyList<RegisteredCgroup> Cgroups()
    {
        lock (members.Lock)
        {
            return OrderedCgroups();
        }
    }

    /// <summary>
    /// The kernel reported the removal of the cgroup registered as registration (with the set's
    /// lock held, by <see cref="ChangeFeed"/>): it is unregistered now rather than at the next
    /// walk, unless the report is older than the registration that holds that id now.
    /// </summary>
    public void OnRemoved(int registration)
    {
        lock (members.Lock)
        {
            if (_cgroups.Values.FirstOrDefault(c => c.Registration == registration) is { } registered && !Exists(registered))
            {
                DropRemoved(registered);
            }
        }
    }

    /// <summary>
    /// The cgroup registry's part of a walk (after <see cref="TrackedSet.Resync"/>): a cgroup
    /// removed is unregistered, processes of the subtrees the kernel missed are added.
    /// </summary>
    public void Reconcile()
    {
        lock (members.Lock)
        {
            foreach (var registered in _cgroups.Values.Where(c => !Exists(c)).ToList())
            {
                DropRemoved(registered);
            }
            foreach (var registered in _cgroups.Values.ToList())
            {
                if (AddMembers(registered) == Adoption.Full)
                {
                    Log.Warning("the tracked-process map is full: some processes of cgroup {Cgroup} are not traced", registered.Name);
                }
            }
        }
    }

    /// <summary>
    /// Adds the processes of the cgroup's subtree that the map lacks, repeated until a
    /// pass adds nothing: a process forked before its parent entered the map is listed by
    /// the next pass. A process traced already keeps its registration (the first made).
    /// </summary>
    private Adoption AddMembers(RegisteredCgroup registered)
    {
        List<int> added;
        do
        {
            added = [];
            foreach (var pid in CgroupHierarchy.Processes(registered.Path))
            {
                if (pid == selfPid || members.TryGetRegistration(pid, out _) || !MayJoin(registered, pid))
                {
                    continue;
                }
                switch (members.Adopt(pid, registered.Registration, !registered.Registrant.Administrator, out _))
                {
                    case Adoption.Full:
                        return Adoption.Full;
                    case Adoption.Added:
                        added.Add(pid);
                        break;
                }
            }
            // One that moved out between the listing and its addition left nothing for the kernel
            // to untrack: listed no more, it goes (one that moves out later, the kernel untracks).
            // The listing, unlike /proc/PID/cgroup, reads the same in any cgroup namespace.
            var listed = CgroupHierarchy.Processes(registered.Path).ToHashSet();
            foreach (var pid in added.Where(p => !listed.Contains(p)))
            {
                members.Untrack(pid);
            }
        }
        while (added.Count > 0);
        return Adoption.Added;
    }

    /// <summary>The kernel's rule (may_join): a non-administrator's registration takes only what its registrant may trace.</summary>
    private bool MayJoin(RegisteredCgroup registered, int pid) =>
        registered.Registrant.Administrator || TracePermission.Allows(proc, registered.Registrant.Uid, pid);

    /// <summary>True while the registered cgroup's directory is still that cgroup (same id).</summary>
    private static bool Exists(RegisteredCgroup registered) =>
        CgroupHierarchy.TryStat(registered.Path, out var id, out _, out _) && id == registered.Id;

    private void DropRemoved(RegisteredCgroup registered)
    {
        Log.Information("cgroup {Cgroup} was removed; unregistered", registered.Name);
        Remove(registered);
        CgroupsChanged();
    }

    private void Remove(RegisteredCgroup registered)
    {
        _cgroups.Remove(registered.Id);
        // The kernel first, so nothing joins while the members go.
        cgroups.Remove(registered.Id);
        members.Close(registered.Registration);
        // A registered cgroup above it takes over its processes.
        foreach (var covering in _cgroups.Values.Where(c => c.Covers(registered.Path)))
        {
            AddMembers(covering);
        }
        UpdateTracing();
    }

    private void UpdateTracing() => setTracing(_cgroups.Count > 0);

    private void CgroupsChanged() => cgroupsChanged?.Invoke(OrderedCgroups());

    private List<RegisteredCgroup> OrderedCgroups() =>
        [.. _cgroups.Values.OrderBy(c => c.RegisteredAt).ThenBy(c => c.Name, StringComparer.Ordinal)];
}
