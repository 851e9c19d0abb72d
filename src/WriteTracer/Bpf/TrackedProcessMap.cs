using WriteTracer.Native;
using WriteTracer.Tracking;

namespace WriteTracer.Bpf;

/// <summary>
/// The BPF hash map of tracked TGIDs, read and written from user space; every change is
/// followed by a bump of its generation (null: reading only, as the tests do).
/// </summary>
internal sealed unsafe class TrackedProcessMap(int mapFd, TrackedGeneration? generation = null) : ITrackedMap
{
    public TrackedMapResult TryAdd(int pid, int rootPid, bool unprivileged)
    {
        var key = (uint)pid;
        var value = new TrackedProcess
        {
            RootPid = (uint)rootPid,
            // The flag follows from the root: cgroup registrations' ids are above every pid.
            Flags = (unprivileged ? TrackedProcess.UnprivilegedFlag : 0)
                | (CgroupNames.IsCgroupRegistration(rootPid) ? TrackedProcess.CgroupFlag : 0),
        };
        var result = Interop.Libbpf.MapUpdateElem(mapFd, &key, &value, Interop.Libbpf.BPF_NOEXIST);
        generation?.Bump();
        return Inserted(result, $"pid {pid}", "tracked");
    }

    /// <summary>What a BPF_NOEXIST insertion into a hash map did; errors other than "present" and "full" are thrown.</summary>
    internal static TrackedMapResult Inserted(int result, string what, string map) => -result switch
    {
        0 => TrackedMapResult.Added,
        Interop.Libc.EEXIST => TrackedMapResult.AlreadyPresent,
        Interop.Libc.E2BIG or Interop.Libc.ENOMEM => TrackedMapResult.Full,
        var errno => throw BpfException.From($"adding {what} to the {map} map", errno),
    };

    public bool Remove(int pid)
    {
        var key = (uint)pid;
        var removed = Interop.Libbpf.MapDeleteElem(mapFd, &key) == 0;
        generation?.Bump();
        return removed;
    }

    public bool TryGetRoot(int pid, out int rootPid)
    {
        var key = (uint)pid;
        TrackedProcess value;
        var found = Interop.Libbpf.MapLookupElem(mapFd, &key, &value) == 0;
        rootPid = found ? (int)value.RootPid : 0;
        return found;
    }

    public IReadOnlyList<(int Pid, int RootPid)> Snapshot()
    {
        var entries = new List<(int, int)>();
        uint key = 0, next;
        var first = true;
        // The map changes under us (forks, exits): a key deleted mid-walk makes the
        // kernel restart from the first key, which at worst repeats entries.
        var seen = new HashSet<uint>();
        while (Interop.Libbpf.MapGetNextKey(mapFd, first ? null : &key, &next) == 0)
        {
            first = false;
            key = next;
            if (!seen.Add(next))
            {
                continue;
            }
            TrackedProcess value;
            if (Interop.Libbpf.MapLookupElem(mapFd, &next, &value) == 0)
            {
                entries.Add(((int)next, (int)value.RootPid));
            }
        }
        return entries;
    }
}
