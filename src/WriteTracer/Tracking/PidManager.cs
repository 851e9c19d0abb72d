using Serilog;

namespace WriteTracer.Tracking;

/// <summary>
/// The registry of traced process trees, kept in step with the kernel's tracked map.
/// The kernel adds children at fork and removes processes at exit; this class adds
/// roots and what they spawned before registration, removes trees on request, and
/// every tracking interval reconciles: roots that exited or whose pid was reused
/// are unregistered, dead entries removed, missed descendants added, counts updated.
/// rootsChanged sees the registered roots after every change (the state file).
/// </summary>
internal sealed class PidManager(ITrackedMap map, ProcFs proc, int selfPid, Action<bool> setTracing, TimeProvider? time = null,
    Action<IReadOnlyList<RootProcess>>? rootsChanged = null, CgroupNames? cgroups = null)
{
    private readonly Dictionary<int, RootProcess> _roots = [];
    private readonly Lock _lock = new();
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private int _trackedProcesses;
    private int _trackedThreads;

    /// <summary>Processes in the tracked map, as of the last count.</summary>
    public int TrackedProcesses => Volatile.Read(ref _trackedProcesses);

    /// <summary>Threads of the tracked processes, as of the last count.</summary>
    public int TrackedThreads => Volatile.Read(ref _trackedThreads);

    public int RootCount
    {
        get { lock (_lock) return _roots.Count; }
    }

    /// <summary>
    /// Registers pid for registrant. expectedStartTime, when given, is the process the
    /// caller's permission was checked against: a pid reused since is not registered.
    /// </summary>
    public Registration Register(int pid, Registrant registrant, ulong? expectedStartTime = null)
    {
        if (pid <= 0)
        {
            return new(RegistrationStatus.InvalidPid, pid);
        }
        var pidMax = proc.PidMax();
        if (pid > pidMax)
        {
            return new(RegistrationStatus.OutOfRange, pid, Limit: pidMax);
        }
        if (pid == selfPid)
        {
            return new(RegistrationStatus.Self, pid);
        }
        lock (_lock)
        {
            if (_roots.TryGetValue(pid, out var registered))
            {
                if (IsSameProcess(registered))
                {
                    return new(RegistrationStatus.AlreadyRegistered, pid, pid);
                }
                // Exited (and maybe reused) since the last reconciliation: the old registration goes now.
                DropExited(registered);
            }
            if (TryGetLiveOwner(pid, registering: 0, out var owner))
            {
                return Tracked(pid, owner);
            }
            if (!proc.IsAlive(pid, out var stat) || (expectedStartTime is { } expected && stat.StartTime != expected))
            {
                return new(RegistrationStatus.NotFound, pid);
            }
            if (proc.TryReadThreadGroup(pid, out var tgid) && tgid != pid)
            {
                return new(RegistrationStatus.Thread, pid, tgid);
            }

            // Hooks first, so whatever the process forks from now on is inherited in the kernel.
            setTracing(true);
            var status = AddTree(pid, stat.StartTime, registrant);
            if (status != RegistrationStatus.Registered)
            {
                // Everything under this pid goes, including children the kernel added at fork meanwhile.
                map.RemoveAll(pid);
                UpdateTracing();
                return status == RegistrationStatus.AlreadyTracked && map.TryGetRoot(pid, out owner) ? Tracked(pid, owner) : new(status, pid);
            }

            var root = new RootProcess(pid, stat.StartTime, stat.Comm, _time.GetUtcNow(), registrant);
            _roots.Add(pid, root);
            Recount();
            RootsChanged();
            return new(RegistrationStatus.Registered, pid, pid, root);
        }
    }

    /// <summary>
    /// Registers again the roots a previous run saved that are still the same processes
    /// (same start time), with their registrants and registration times; logs one line per
    /// root restored or dropped.
    /// </summary>
    public void Restore(IEnumerable<RootProcess> saved)
    {
        lock (_lock)
        {
            foreach (var root in saved)
            {
                var outcome = RestoreOne(root);
                Log.Information("state file: process {Pid} ({Comm}, registered by uid {Uid}): {Outcome}",
                    root.Pid, root.Comm, root.Registrant.Uid, outcome);
            }
            UpdateTracing();
            Recount();
            RootsChanged();
        }
    }

    private string RestoreOne(RootProcess root)
    {
        if (!proc.IsAlive(root.Pid, out var stat))
        {
            return "exited; dropped";
        }
        if (stat.StartTime != root.StartTime)
        {
            return $"exited, its pid now names another process ({stat.Comm}); dropped";
        }
        if (root.Pid == selfPid || _roots.ContainsKey(root.Pid))
        {
            return "already registered";
        }
        setTracing(true);
        var status = AddTree(root.Pid, root.StartTime, root.Registrant);
        if (status != RegistrationStatus.Registered)
        {
            map.RemoveAll(root.Pid);
            return $"not restored: {new Registration(status, root.Pid).Describe()}";
        }
        _roots.Add(root.Pid, root);
        return "restored with its descendants";
    }

    /// <summary>Unregisters a root and untracks its whole tree; null when pid is not a registered root.</summary>
    public RootProcess? Unregister(int pid)
    {
        lock (_lock)
        {
            if (!_roots.Remove(pid, out var root))
            {
                return null;
            }
            map.RemoveAll(pid);
            UpdateTracing();
            Recount();
            RootsChanged();
            return root;
        }
    }

    /// <summary>The registered root whose tree includes pid (pid itself for a root); null when pid is not tracked.</summary>
    public int? RootOf(int pid)
    {
        lock (_lock)
        {
            return _roots.ContainsKey(pid) ? pid : TryGetLiveOwner(pid, registering: 0, out var owner) ? owner : null;
        }
    }

    public RootProcess? Find(int pid)
    {
        lock (_lock)
        {
            return _roots.GetValueOrDefault(pid);
        }
    }

    public IReadOnlyList<RootProcess> Roots()
    {
        lock (_lock)
        {
            return OrderedRoots();
        }
    }

    /// <summary>One tracking-interval pass (see the class summary).</summary>
    public void Reconcile()
    {
        lock (_lock)
        {
            foreach (var root in _roots.Values.ToList())
            {
                if (!IsSameProcess(root))
                {
                    DropExited(root);
                }
            }
            foreach (var (pid, rootPid) in map.Snapshot())
            {
                // Members of cgroup registrations are the cgroup registry's to reconcile.
                if (!CgroupNames.IsCgroupRegistration(rootPid) && (!_roots.ContainsKey(rootPid) || !proc.IsAlive(pid, out _)))
                {
                    map.Remove(pid);
                }
            }
            foreach (var root in _roots.Values)
            {
                if (AddDescendants(root.Pid, root.Registrant) == RegistrationStatus.MapFull)
                {
                    Log.Warning("the tracked-process map is full: some descendants of {Pid} are not traced", root.Pid);
                }
            }
            UpdateTracing();
            Recount();
        }
    }

    /// <summary>Already tracked under owner: a registered root's tree, or a registered cgroup.</summary>
    private Registration Tracked(int pid, int owner) => CgroupNames.IsCgroupRegistration(owner)
        ? new(RegistrationStatus.InCgroup, pid, owner, Cgroup: cgroups?.NameOf(owner))
        : new(RegistrationStatus.AlreadyTracked, pid, owner);

    /// <summary>True while the root's pid still names the process that was registered (alive, same start time).</summary>
    private bool IsSameProcess(RootProcess root) => proc.IsAlive(root.Pid, out var stat) && stat.StartTime == root.StartTime;

    private void DropExited(RootProcess root)
    {
        Log.Information("process {Pid} ({Comm}) exited; unregistered with its descendants", root.Pid, root.Comm);
        _roots.Remove(root.Pid);
        map.RemoveAll(root.Pid);
        RootsChanged();
    }

    /// <summary>Adds the root, checks it is still the same process, then adds its descendants.</summary>
    private RegistrationStatus AddTree(int pid, ulong startTime, Registrant registrant)
    {
        switch (map.TryAdd(pid, pid, !registrant.Administrator))
        {
            case TrackedMapResult.Full:
                return RegistrationStatus.MapFull;
            case TrackedMapResult.AlreadyPresent:
                return RegistrationStatus.AlreadyTracked;
        }
        // The pid may have died and been reused between the first look and the map update.
        if (!proc.IsAlive(pid, out var now) || now.StartTime != startTime)
        {
            return RegistrationStatus.NotFound;
        }
        return AddDescendants(pid, registrant);
    }

    /// <summary>
    /// Walks the tree below root in /proc and adds what the map lacks. Repeated until a
    /// walk adds nothing: a process forked before its parent entered the map is found
    /// by the next walk. Other roots' subtrees and the tracer itself are left alone. Below
    /// an unprivileged registration, a process its registrant may not trace (one the kernel
    /// untracked at a privilege-gaining exec) is left alone with its subtree.
    /// </summary>
    private RegistrationStatus AddDescendants(int rootPid, Registrant registrant)
    {
        bool addedAny;
        do
        {
            addedAny = false;
            var pending = new Stack<int>();
            pending.Push(rootPid);
            while (pending.TryPop(out var parent))
            {
                foreach (var child in proc.Children(parent))
                {
                    if (child == selfPid || _roots.ContainsKey(child))
                    {
                        continue;
                    }
                    if (TryGetLiveOwner(child, rootPid, out var owner))
                    {
                        if (owner == rootPid)
                        {
                            pending.Push(child);
                        }
                        continue;
                    }
                    // A zombie stays listed by its parent until reaped, but the kernel already
                    // dropped it from the map; re-adding it would outlive the pid's reuse.
                    if (!proc.IsAlive(child, out _)
                        || (!registrant.Administrator && !TracePermission.Allows(proc, registrant.Uid, child)))
                    {
                        continue;
                    }
                    switch (map.TryAdd(child, rootPid, !registrant.Administrator))
                    {
                        case TrackedMapResult.Full:
                            return RegistrationStatus.MapFull;
                        case TrackedMapResult.Added:
                            addedAny = true;
                            break;
                    }
                    pending.Push(child);
                }
            }
        }
        while (addedAny);
        return RegistrationStatus.Registered;
    }

    /// <summary>
    /// The root pid's map entry points to, when that root is registered (or is the one
    /// being registered). An entry left behind by a removed tree (a child forked while
    /// the tree was being removed) is stale: it is dropped here rather than reported
    /// as belonging to a root that no longer exists.
    /// </summary>
    private bool TryGetLiveOwner(int pid, int registering, out int owner)
    {
        if (!map.TryGetRoot(pid, out owner))
        {
            return false;
        }
        // A cgroup registration's member is live while the cgroup registry keeps it.
        if (owner == registering || _roots.ContainsKey(owner) || CgroupNames.IsCgroupRegistration(owner))
        {
            return true;
        }
        map.Remove(pid);
        owner = 0;
        return false;
    }

    private void UpdateTracing() => setTracing(_roots.Count > 0);

    private void RootsChanged() => rootsChanged?.Invoke(OrderedRoots());

    private List<RootProcess> OrderedRoots() => [.. _roots.Values.OrderBy(r => r.RegisteredAt).ThenBy(r => r.Pid)];

    private void Recount()
    {
        var perRoot = _roots.Values.ToDictionary(r => r.Pid, _ => (Processes: 0, Threads: 0));
        int processes = 0, threads = 0;
        foreach (var (pid, rootPid) in map.Snapshot())
        {
            var count = proc.ThreadCount(pid);
            processes++;
            threads += count;
            if (perRoot.TryGetValue(rootPid, out var totals))
            {
                perRoot[rootPid] = (totals.Processes + 1, totals.Threads + count);
            }
        }
        foreach (var root in _roots.Values)
        {
            (root.ProcessCount, root.ThreadCount) = perRoot[root.Pid];
        }
        Volatile.Write(ref _trackedProcesses, processes);
        Volatile.Write(ref _trackedThreads, threads);
    }
}
