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

    /// <summary>
    /// Every entry, read a thousand at a time (BPF_MAP_LOOKUP_BATCH: a syscall per thousand, not
    /// two per entry). The kernel reads the map bucket by bucket, so entries added or removed
    /// meanwhile may or may not be in it, and none is read twice.
    /// </summary>
    public IReadOnlyList<(int Pid, int RootPid)> Snapshot()
    {
        const int Chunk = 1024;
        var entries = new List<(int, int)>();
        var keys = new uint[Chunk];
        var values = new TrackedProcess[Chunk];
        uint position = 0, next = 0;
        var first = true;
        while (true)
        {
            var count = (uint)Chunk;
            int result;
            fixed (uint* k = keys)
            fixed (TrackedProcess* v = values)
            {
                result = Interop.Libbpf.MapLookupBatch(mapFd, first ? null : &position, &next, k, v, &count, null);
            }
            if (result < 0 && result != -Interop.Libc.ENOENT)
            {
                throw BpfException.From("reading the tracked map", -result);
            }
            for (var i = 0; i < count; i++)
            {
                entries.Add(((int)keys[i], (int)values[i].RootPid));
            }
            if (result == -Interop.Libc.ENOENT)
            {
                return entries;
            }
            first = false;
            position = next;
        }
    }
}
