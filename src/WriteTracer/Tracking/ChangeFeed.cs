using System.Diagnostics;
using Serilog;
using WriteTracer.Bpf;

namespace WriteTracer.Tracking;

/// <summary>
/// The registry thread: hands the kernel's reports of changes to the tracked set (the
/// <c>changes</c> ring) to the <see cref="TrackedSet"/> as they come, so counts follow forks,
/// threads and exits and an exited root or a removed cgroup is unregistered at once. It walks /proc only where the
/// kernel cannot tell: after a report was lost (the lifecycle counter rose), at most once per
/// <see cref="LossWalkGap"/>, and every walk interval (--tracking-interval) as a safety net.
/// <para>
/// A thread of its own rather than the event reader's cycle: applying a report takes the
/// registries' lock, which a registration holds while it walks a large tree, and the event
/// reader must never wait on it. The kernel wakes this thread for the first report that finds
/// it caught up, so it sleeps while the traced processes do.
/// </para>
/// </summary>
internal sealed class ChangeFeed : IRecordConsumer
{
    /// <summary>The longest the thread sleeps: how soon a loss the ring never saw (no record at all) is noticed, and a stop.</summary>
    public const int PollTimeoutMs = 100;

    /// <summary>While reports keep being lost, the walks that repair them come at most this often.</summary>
    public static readonly TimeSpan LossWalkGap = TimeSpan.FromSeconds(1);

    private readonly IRecordSource _changes;
    private readonly TrackedSet _members;
    private readonly PidManager _pids;
    private readonly CgroupRegistry _cgroups;
    private readonly Func<ulong> _lostChanges;
    private readonly TimeSpan _walkInterval;
    private readonly TimeProvider _time;
    private ulong _lostSeen;
    private volatile bool _repairWanted;
    /// <summary>When the last walk ended, and when the next is due: <see cref="TimeProvider.GetTimestamp"/> values.</summary>
    private long _lastWalk;
    private long _nextWalk;

    /// <param name="lostChanges">The kernel's count of reports that found the ring full (WT_COUNTER_LIFECYCLE_FULL).</param>
    public ChangeFeed(IRecordSource changes, TrackedSet members, PidManager pids, CgroupRegistry cgroups, Func<ulong> lostChanges,
        TimeSpan walkInterval, TimeProvider? time = null)
    {
        _changes = changes;
        _members = members;
        _pids = pids;
        _cgroups = cgroups;
        _lostChanges = lostChanges;
        _walkInterval = walkInterval;
        _time = time ?? TimeProvider.System;
        _lostSeen = lostChanges();
        _lastWalk = _time.GetTimestamp() - Ticks(LossWalkGap);
        _nextWalk = _time.GetTimestamp() + Ticks(walkInterval);
        // Whoever changes the set wholesale (a removal, a walk) first takes what the kernel reported.
        members.PendingChanges = () => changes.Consume(this);
    }

    /// <summary>Follows the kernel until stop is signalled.</summary>
    public void Run(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Cycle();
        }
    }

    /// <summary>Waits for reports (up to <see cref="PollTimeoutMs"/>, less when a walk is due sooner), applies them, walks if due.</summary>
    public void Cycle()
    {
        var untilWalkMs = (WalkDue() - _time.GetTimestamp()) * 1000.0 / _time.TimestampFrequency;
        _changes.Wait((int)Math.Clamp(Math.Ceiling(untilWalkMs), 0, PollTimeoutMs));
        lock (_members.Lock)
        {
            _changes.Consume(this);
        }
        var lost = _lostChanges();
        if (lost != _lostSeen)
        {
            Log.Debug("{Lost} reports of tracked-set changes lost (the changes ring was full): walking /proc", lost - _lostSeen);
            _lostSeen = lost;
            _repairWanted = true;
        }
        if (_time.GetTimestamp() >= WalkDue())
        {
            Walk();
        }
    }

    /// <summary>
    /// Rebuilds the registries from the kernel's map and /proc: counts recounted, entries of
    /// processes and registrations that are gone removed, roots that exited and cgroups removed
    /// unregistered, descendants and members the kernel missed added.
    /// </summary>
    public void Walk()
    {
        var started = Stopwatch.GetTimestamp();
        lock (_members.Lock)
        {
            _members.Resync();
            _pids.Reconcile();
            _cgroups.Reconcile();
        }
        _lastWalk = _time.GetTimestamp();
        _nextWalk = _lastWalk + Ticks(_walkInterval);
        _repairWanted = false;
        Log.Debug("walked /proc: {Processes} processes, {Threads} threads tracked ({Ms:F1} ms)",
            _members.Processes, _members.Threads, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>One report, with the set's lock held (by <see cref="Cycle"/>, or by whoever asked for the pending ones).</summary>
    public void OnRecord(ReadOnlySpan<byte> record)
    {
        if (!TrackingChange.TryDecode(record, out var change))
        {
            _repairWanted = true; // never expected; whatever it said, a walk learns it
            return;
        }
        if (change.Kind == TrackingChangeKind.CgroupRemoved)
        {
            _cgroups.OnRemoved((int)change.RootPid);
            return;
        }
        if (_members.Apply(change))
        {
            _pids.OnRootUntracked((int)change.Pid, change.Flags);
        }
    }

    private long WalkDue() => _repairWanted ? Math.Min(_lastWalk + Ticks(LossWalkGap), _nextWalk) : _nextWalk;

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);
}
