using Serilog;
using WriteTracer.Bpf;

namespace WriteTracer.Tracking;

/// <summary>
/// The registry of traced process trees. The kernel adds children at fork and removes processes
/// at exit, and reports both (<see cref="TrackedSet"/> follows the reports, so counts stay
/// exact without walking /proc); this class adds roots and what they spawned before
/// registration, removes trees on request, unregisters a root when the kernel reports its exit
/// (<see cref="OnRootUntracked"/>), and in a walk (<see cref="Reconcile"/>) unregisters roots
/// that exited or whose pid was reused and adds descendants the kernel missed.
/// rootsChanged sees the registered roots after every change (the state file).
/// </summary>
internal sealed class PidManager(TrackedSet members, ProcFs proc, int selfPid, Action<bool> setTracing, TimeProvider? time = null,
    Action<IReadOnlyList<RootProcess>>? rootsChanged = null, CgroupNames? cgroups = null)
{
    private readonly Dictionary<int, RootProcess> _roots = [];
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Processes in the tracked map, pid and cgroup registrations alike.</summary>
    public int TrackedProcesses => members.Processes;

    /// <summary>Threads of the tracked processes.</summary>
    public int TrackedThreads => members.Threads;

    public int RootCount
    {
        get { lock (members.Lock) return _roots.Count; }
    }

    /// <summary>
    /// Registers pid for registrant. expectedStartTime, when given, is the process the
    /// caller's permission was checked against: a pid reused since is not registered.
    /// comm, when given, names the process instead of its current comm: a launched command is
    /// registered while the shell that will exec it still holds its pid.
    /// </summary>
    public Registration Register(int pid, Registrant registrant, ulong? expectedStartTime = null, string? comm = null)
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
        lock (members.Lock)
        {
            if (_roots.TryGetValue(pid, out var registered))
            {
                if (IsSameProcess(registered))
                {
                    return new(RegistrationStatus.AlreadyRegistered, pid, pid);
                }
                // Exited (and maybe reused) without its exit reported yet: the old registration goes now.
                DropExited(registered);
            }
            if (members.TryGetOwner(pid, out var owner))
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

            var root = new RootProcess(pid, stat.StartTime, comm ?? stat.Comm, _time.GetUtcNow(), registrant);
            var status = Add(root);
            if (status != RegistrationStatus.Registered)
            {
                UpdateTracing();
                return status == RegistrationStatus.AlreadyTracked && members.TryGetOwner(pid, out owner) ? Tracked(pid, owner) : new(status, pid);
            }
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
        lock (members.Lock)
        {
            foreach (var root in saved)
            {
                var outcome = RestoreOne(root);
                Log.Information("state file: process {Pid} ({Comm}, registered by uid {Uid}): {Outcome}",
                    root.Pid, root.Comm, root.Registrant.Uid, outcome);
            }
            UpdateTracing();
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
        var status = Add(root);
        return status == RegistrationStatus.Registered
            ? "restored with its descendants"
            : $"not restored: {new Registration(status, root.Pid).Describe()}";
    }

    /// <summary>Unregisters a root and untracks its whole tree; null when pid is not a registered root.</summary>
    public RootProcess? Unregister(int pid)
    {
        lock (members.Lock)
        {
            if (!_roots.Remove(pid, out var root))
            {
                return null;
            }
            members.Close(pid);
            UpdateTracing();
            RootsChanged();
            return root;
        }
    }

    /// <summary>The registered root whose tree includes pid (pid itself for a root); null when pid is not tracked.</summary>
    public int? RootOf(int pid)
    {
        lock (members.Lock)
        {
            return _roots.ContainsKey(pid) ? pid : members.TryGetOwner(pid, out var owner) ? owner : null;
        }
    }

    public RootProcess? Find(int pid)
    {
        lock (members.Lock)
        {
            return _roots.GetValueOrDefault(pid);
        }
    }

    public IReadOnlyList<RootProcess> Roots()
    {
        lock (members.Lock)
        {
            return OrderedRoots();
        }
    }

    /// <summary>
    /// The kernel took a root's own process out of the map. A registration by an administrator
    /// leaves the map only when its process exits; an unprivileged one's also at a
    /// privilege-gaining exec, after which the process lives on, no longer traced, and stays
    /// registered (as its descendants from before stay traced): /proc tells the two apart.
    /// </summary>
    public void OnRootUntracked(int pid, uint flags)
    {
        lock (members.Lock)
        {
            if (!_roots.TryGetValue(pid, out var root))
            {
                return;
            }
            if ((flags & TrackedProcess.UnprivilegedFlag) != 0 && proc.TryReadStat(pid, out var stat)
                && !stat.IsZombie && !stat.IsExiting && stat.StartTime == root.StartTime)
            {
                return;
            }
            DropExited(root);
            UpdateTracing();
        }
    }

    /// <summary>
    /// The pid registry's part of a walk (after <see cref="TrackedSet.Resync"/>): roots that exited
    /// or whose pid was reused are unregistered, descendants the kernel missed are added.
    /// </summary>
    public void Reconcile()
    {
        lock (members.Lock)
        {
            foreach (var root in _roots.Values.ToList())
            {
                if (_roots.ContainsKey(root.Pid) && !IsSameProcess(root))
                {
                    DropExited(root);
                }
            }
            foreach (var root in _roots.Values.ToList())
            {
                if (AddDescendants(root.Pid, root.Registrant) == RegistrationStatus.MapFull)
                {
                    Log.Warning("the tracked-process map is full: some descendants of {Pid} are not traced", root.Pid);
                }
            }
            UpdateTracing();
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
        if (!_roots.Remove(root.Pid))
        {
            return;
        }
        Log.Information("process {Pid} ({Comm}) exited; unregistered with its descendants", root.Pid, root.Comm);
        members.Close(root.Pid);
        RootsChanged();
    }

    /// <summary>
    /// Registers root with its tree: hooks first, so that whatever it forks from now on is
    /// inherited in the kernel, then the root, then its descendants. Anything short of
    /// Registered leaves nothing behind.
    /// </summary>
    private RegistrationStatus Add(RootProcess root)
    {
        setTracing(true);
        root.Members = members.Open(root.Pid);
        var status = AddTree(root.Pid, root.StartTime, root.Registrant);
        if (status != RegistrationStatus.Registered)
        {
            members.Close(root.Pid);
            return status;
        }
        _roots.Add(root.Pid, root);
        return status;
    }

    /// <summary>Adds the root, checks it is still the same process, then adds its descendants.</summary>
    private RegistrationStatus AddTree(int pid, ulong startTime, Registrant registrant)
    {
        switch (members.Adopt(pid, pid, !registrant.Administrator, out _))
        {
            case Adoption.Full:
                return RegistrationStatus.MapFull;
            case Adoption.Tracked:
                return RegistrationStatus.AlreadyTracked;
            case Adoption.Gone:
                return RegistrationStatus.NotFound;
        }
        // The pid may have died and been reused between the first look and the map update.
        if (!proc.IsAlive(pid, out var now) || now.StartTime != startTime)
        {
            return RegistrationStatus.NotFound;
        }
        return AddDescendants(pid, registrant);
    }

    /// <summary>
    /// Walks the tree below root in /proc (each process's children files, read once) and adds
    /// what the map lacks. One pass is enough: a process enters the map before its children are
    /// listed, so a child forked before that is listed, and one forked after is the kernel's.
    /// Other roots' subtrees and the tracer itself are left alone. Below an unprivileged
    /// registration, a process its registrant may not trace (one the kernel untracked at a
    /// privilege-gaining exec) is left alone with its subtree.
    /// </summary>
    private RegistrationStatus AddDescendants(int rootPid, Registrant registrant)
    {
        var pending = new Stack<int>();
        var children = new List<int>();
        pending.Push(rootPid);
        while (pending.TryPop(out var parent))
        {
            children.Clear();
            proc.AddChildren(parent, members.ThreadsOf(parent), children);
            foreach (var child in children)
            {
                if (child == selfPid || _roots.ContainsKey(child))
                {
                    continue;
                }
                if (members.TryGetRegistration(child, out var owner))
                {
                    if (owner == rootPid)
                    {
                        pending.Push(child);
                    }
                    continue;
                }
                if (!registrant.Administrator && !TracePermission.Allows(proc, registrant.Uid, child))
                {
                    continue;
                }
                switch (members.Adopt(child, rootPid, !registrant.Administrator, out _))
                {
                    case Adoption.Full:
                        return RegistrationStatus.MapFull;
                    case Adoption.Added:
                        pending.Push(child);
                        break;
                }
            }
        }
        return RegistrationStatus.Registered;
    }

    private void UpdateTracing() => setTracing(_roots.Count > 0);

    private void RootsChanged() => rootsChanged?.Invoke(OrderedRoots());

    private List<RootProcess> OrderedRoots() => [.. _roots.Values.OrderBy(r => r.RegisteredAt).ThenBy(r => r.Pid)];
}
