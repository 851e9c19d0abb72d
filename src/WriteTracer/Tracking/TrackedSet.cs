using System.Diagnostics;
using WriteTracer.Bpf;

namespace WriteTracer.Tracking;

/// <summary>
/// The tracer's copy of the kernel's tracked map, by registration (a registered root's pid, or a
/// cgroup registration's id: see <see cref="CgroupNames"/>): every member process with its
/// thread count, and each registration's members and totals. Both registries share it, and every
/// caller holds <see cref="Lock"/>.
/// <para>
/// It follows the kernel without walking /proc: the kernel reports each change it makes (fork,
/// exit, thread start and exit, a move into or out of a registered cgroup) through the changes
/// ring, which <see cref="ChangeFeed"/> hands to <see cref="Apply"/>; the registries report their
/// own (<see cref="Open"/>, <see cref="Adopt"/>, <see cref="Untrack"/>, <see cref="Close"/>).
/// When a report was lost, <see cref="Resync"/> rebuilds the set from the map and /proc.
/// </para>
/// <para>
/// Reports are read behind the kernel, so one can arrive after a registry has looked at its
/// process itself. Every member keeps when it was last looked at (<c>since</c>, CLOCK_MONOTONIC
/// like the kernel's timestamps): a report about it from before then is already accounted for.
/// </para>
/// </summary>
internal sealed class TrackedSet(ITrackedMap map, ProcFs proc, Func<ulong>? clock = null)
{
    private readonly Dictionary<int, Member> _members = [];
    private readonly Dictionary<int, MemberCounts> _registrations = [];
    private readonly Func<ulong> _clock = clock ?? MonotonicNs;
    private int _processes;
    private int _threads;
    private bool _catchingUp;

    /// <summary>Held by whoever reads or changes the set, or the registries built on it.</summary>
    public Lock Lock { get; } = new();

    /// <summary>
    /// Hands over the reports the kernel has made and the feed has not read yet (set by
    /// <see cref="ChangeFeed"/>), so that removing a registration removes the children it forked
    /// a moment ago too.
    /// </summary>
    public Action? PendingChanges { get; set; }

    /// <summary>Member processes of every registration.</summary>
    public int Processes => Volatile.Read(ref _processes);

    /// <summary>Threads of those processes.</summary>
    public int Threads => Volatile.Read(ref _threads);

    /// <summary>The kernel's clock (bpf_ktime_get_ns): CLOCK_MONOTONIC, which Stopwatch reads on Linux.</summary>
    public static ulong MonotonicNs() => (ulong)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));

    /// <summary>Starts a registration: from now on the kernel's reports about its processes count.</summary>
    public MemberCounts Open(int registration)
    {
        var counts = new MemberCounts();
        _registrations.Add(registration, counts);
        return counts;
    }

    /// <summary>
    /// Ends a registration: its members leave the kernel's map, one by one (the set knows them).
    /// A child one of them forks meanwhile is removed when its report arrives: its registration is gone.
    /// </summary>
    public void Close(int registration)
    {
        CatchUp();
        if (!_registrations.Remove(registration, out var counts))
        {
            return;
        }
        foreach (var pid in counts.Pids)
        {
            map.Remove(pid);
            _members.Remove(pid);
        }
        AddToTotals(-counts.Processes, -counts.Threads);
    }

    /// <summary>The registration pid belongs to, as far as the set knows.</summary>
    public bool TryGetRegistration(int pid, out int registration)
    {
        var known = _members.TryGetValue(pid, out var member);
        registration = member.Registration;
        return known;
    }

    /// <summary>
    /// The registration tracking pid: the set's member, or one the kernel just tracked (its report
    /// on its way). An entry the kernel holds for a registration that is gone is removed here.
    /// </summary>
    public bool TryGetOwner(int pid, out int registration)
    {
        if (TryGetRegistration(pid, out registration))
        {
            return true;
        }
        if (!map.TryGetRoot(pid, out registration))
        {
            return false;
        }
        if (_registrations.ContainsKey(registration))
        {
            return true;
        }
        map.Remove(pid);
        registration = 0;
        return false;
    }

    /// <summary>The member's threads, as last counted; 0 when pid is no member.</summary>
    public int ThreadsOf(int pid) => _members.TryGetValue(pid, out var member) ? member.Threads : 0;

    /// <summary>
    /// Puts pid, a process no registration holds as far as the set knows, in the kernel's map
    /// under registration (open), and reads its threads from /proc once it is there: from then
    /// on the kernel reports its forks, threads and exit. Added when it is now a member (also when
    /// the kernel had just tracked it under registration); Tracked when another registration has it
    /// (owner); Gone when it exited; Full when the map has no room.
    /// </summary>
    public Adoption Adopt(int pid, int registration, bool unprivileged, out int owner)
    {
        owner = registration;
        var result = map.TryAdd(pid, registration, unprivileged);
        if (result == TrackedMapResult.AlreadyPresent && map.TryGetRoot(pid, out owner) && !_registrations.ContainsKey(owner))
        {
            // Left behind by a registration that is gone: free to take.
            map.Remove(pid);
            owner = registration;
            result = map.TryAdd(pid, registration, unprivileged);
        }
        switch (result)
        {
            case TrackedMapResult.Full:
                return Adoption.Full;
            case TrackedMapResult.AlreadyPresent when owner != registration:
                return Adoption.Tracked;
        }
        return Observe(pid, registration) ? Adoption.Added : Adoption.Gone;
    }

    /// <summary>Takes pid out of the kernel's map and the set (a registry's own decision).</summary>
    public void Untrack(int pid)
    {
        map.Remove(pid);
        Forget(pid);
    }

    /// <summary>
    /// Rebuilds the set from the kernel's map, reading each entry's /proc/PID/stat once: entries of
    /// registrations that are gone and of processes that are gone leave the map, every other is a
    /// member with its threads as /proc counts them now. The repair after a lost report, and the
    /// safety net of every tracking interval.
    /// </summary>
    public void Resync()
    {
        CatchUp();
        var entries = map.Snapshot();
        _members.Clear();
        foreach (var counts in _registrations.Values)
        {
            counts.Pids.Clear();
            counts.Add(-counts.Processes, -counts.Threads);
        }
        AddToTotals(-Processes, -Threads);
        foreach (var (pid, registration) in entries)
        {
            if (!_registrations.ContainsKey(registration))
            {
                map.Remove(pid);
                continue;
            }
            Observe(pid, registration);
        }
    }

    /// <summary>
    /// Applies one of the kernel's reports. True when it says that a registered root's own
    /// process left the map (its exit, or a privilege-gaining exec of an unprivileged
    /// registration's): the pid registry decides which.
    /// </summary>
    public bool Apply(in TrackingChange change)
    {
        var pid = (int)change.Pid;
        var known = _members.TryGetValue(pid, out var member);
        if (known && member.Since > change.TimestampNs)
        {
            return false; // looked at since: already accounted for
        }
        switch (change.Kind)
        {
            case TrackingChangeKind.Tracked:
                var registration = (int)change.RootPid;
                if (!_registrations.ContainsKey(registration))
                {
                    // Inherited from a registration that is gone (forked while its tree was removed).
                    if (map.TryGetRoot(pid, out var root) && root == registration)
                    {
                        map.Remove(pid);
                    }
                    return false;
                }
                // A fork starts with one thread; a process moved into a registered cgroup has its own.
                var threads = change.ParentPid != 0 ? 1 : known ? member.Threads : CountThreads(pid);
                Set(pid, new Member(registration, threads, change.TimestampNs));
                return false;
            case TrackingChangeKind.Untracked when known:
                Forget(pid);
                return member.Registration == pid && !CgroupNames.IsCgroupRegistration(pid);
            case TrackingChangeKind.ThreadStart when known:
                Set(pid, member with { Threads = member.Threads + 1 });
                return false;
            case TrackingChangeKind.ThreadExit when known:
                Set(pid, member with { Threads = Math.Max(1, member.Threads - 1) });
                return false;
            default:
                return false; // about a process the set does not hold: nothing to change
        }
    }

    /// <summary>Makes pid a member as /proc shows it now; when it is gone, its entry leaves the map.</summary>
    private bool Observe(int pid, int registration)
    {
        var since = _clock();
        if (!proc.IsAlive(pid, out var stat))
        {
            map.Remove(pid);
            Forget(pid);
            return false;
        }
        Set(pid, new Member(registration, Math.Max(1, stat.Threads), since));
        return true;
    }

    private int CountThreads(int pid) => proc.TryReadStat(pid, out var stat) ? Math.Max(1, stat.Threads) : 1;

    private void Set(int pid, Member member)
    {
        Forget(pid);
        var counts = _registrations[member.Registration];
        counts.Pids.Add(pid);
        counts.Add(1, member.Threads);
        _members[pid] = member;
        AddToTotals(1, member.Threads);
    }

    private void Forget(int pid)
    {
        if (!_members.Remove(pid, out var member))
        {
            return;
        }
        var counts = _registrations[member.Registration];
        counts.Pids.Remove(pid);
        counts.Add(-1, -member.Threads);
        AddToTotals(-1, -member.Threads);
    }

    private void AddToTotals(int processes, int threads)
    {
        Volatile.Write(ref _processes, _processes + processes);
        Volatile.Write(ref _threads, _threads + threads);
    }

    /// <summary>Reads the pending reports, unless they are being read already (a report's consequence closing a registration).</summary>
    private void CatchUp()
    {
        if (_catchingUp || PendingChanges is not { } pending)
        {
            return;
        }
        _catchingUp = true;
        try
        {
            pending();
        }
        finally
        {
            _catchingUp = false;
        }
    }

    /// <param name="Since">When it was last looked at (CLOCK_MONOTONIC ns): reports from before are accounted for.</param>
    private readonly record struct Member(int Registration, int Threads, ulong Since);
}

/// <summary>What <see cref="TrackedSet.Adopt"/> did.</summary>
internal enum Adoption
{
    /// <summary>A member of the registration now.</summary>
    Added,
    /// <summary>Another registration tracks it.</summary>
    Tracked,
    /// <summary>It exited.</summary>
    Gone,
    /// <summary>The kernel's map has no room.</summary>
    Full,
}
