using System.Runtime.InteropServices;
using WriteTracer.Bpf;
using WriteTracer.Tracking;

namespace WriteTracer.Tests.Infrastructure;

/// <summary>
/// The kernel program's part of the registry, played over a <see cref="FakeTrackedMap"/>: its
/// hooks change the map as the real ones do and report each change (struct tracking_change) into
/// a queue that the change feed reads as it reads the changes ring. Its clock is the one the
/// tracked set reads, one tick per reading, so every report and every look is ordered.
/// </summary>
internal sealed class FakeKernel(FakeTrackedMap map) : IRecordSource
{
    private readonly Queue<byte[]> _reports = new();
    private ulong _now;

    /// <summary>WT_COUNTER_LIFECYCLE_FULL: reports lost.</summary>
    public ulong Lost { get; private set; }

    /// <summary>Like cfg.fail_changes: every report is lost (and counted).</summary>
    public bool FailReports { get; set; }

    /// <summary>Reports not yet read.</summary>
    public int Pending => _reports.Count;

    /// <summary>CLOCK_MONOTONIC: later at every reading.</summary>
    public ulong Now() => ++_now;

    /// <summary>sched_process_fork of a new process: a tracked parent's child inherits its entry.</summary>
    public void Fork(int parent, int child)
    {
        if (map.TryGetRoot(parent, out var root))
        {
            var unprivileged = map.Unprivileged.Contains(parent);
            map.Remove(child);
            map.TryAdd(child, root, unprivileged);
            Report(TrackingChangeKind.Tracked, child, child, parent, root, unprivileged);
        }
    }

    /// <summary>The last thread's sched_process_exit (or the exec rule, a cgroup move out): the entry goes.</summary>
    public void Untrack(int pid)
    {
        var unprivileged = map.Unprivileged.Contains(pid);
        if (map.TryGetRoot(pid, out var root) && map.Remove(pid))
        {
            Report(TrackingChangeKind.Untracked, pid, pid, 0, root, unprivileged);
        }
    }

    /// <summary>A move into a registered cgroup (cgroup_attach_task): tracked under its registration, no parent.</summary>
    public void Join(int pid, int registration)
    {
        map.Remove(pid);
        map.TryAdd(pid, registration, unprivileged: false);
        Report(TrackingChangeKind.Tracked, pid, pid, 0, registration, unprivileged: false);
    }

    /// <summary>cgroup_rmdir of a registered cgroup: reported with its registration, no process.</summary>
    public void CgroupRemoved(int registration) => Report(TrackingChangeKind.CgroupRemoved, 0, 0, 0, registration, unprivileged: false);

    public void ThreadStart(int pid, int tid) => ReportThread(TrackingChangeKind.ThreadStart, pid, tid);

    public void ThreadExit(int pid, int tid) => ReportThread(TrackingChangeKind.ThreadExit, pid, tid);

    /// <summary>A record too short to be a report.</summary>
    public void ReportGarbage() => _reports.Enqueue([1, 2, 3]);

    public void Wait(int timeoutMs)
    {
    }

    public int Consume(IRecordConsumer consumer)
    {
        var consumed = 0;
        while (_reports.TryDequeue(out var record))
        {
            consumer.OnRecord(record);
            consumed++;
        }
        return consumed;
    }

    private void ReportThread(TrackingChangeKind kind, int pid, int tid)
    {
        if (map.TryGetRoot(pid, out var root))
        {
            Report(kind, pid, tid, 0, root, map.Unprivileged.Contains(pid));
        }
    }

    private void Report(TrackingChangeKind kind, int pid, int tid, int parent, int root, bool unprivileged)
    {
        if (FailReports)
        {
            Lost++;
            return;
        }
        var change = new TrackingChange
        {
            TimestampNs = Now(),
            Kind = kind,
            Pid = (uint)pid,
            Tid = (uint)tid,
            ParentPid = (uint)parent,
            RootPid = (uint)root,
            Flags = (unprivileged ? TrackedProcess.UnprivilegedFlag : 0) | (CgroupNames.IsCgroupRegistration(root) ? TrackedProcess.CgroupFlag : 0),
        };
        var record = new byte[TrackingChange.Size];
        MemoryMarshal.Write(record, in change);
        _reports.Enqueue(record);
    }
}
