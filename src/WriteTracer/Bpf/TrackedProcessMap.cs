using WriteTracer.Native;
using WriteTracer.Tracking;

namespace WriteTracer.Bpf;

/// <summary>
/// The BPF hash map of tracked TGIDs, read and written from user space, with the bitmap in
/// front of it kept in step as the kernel's track() and untrack() keep it: the bit is set
/// before an entry is added and cleared after it is removed.
/// </summary>
internal sealed unsafe class TrackedProcessMap(int mapFd, TrackedBitmap bitmap) : ITrackedMap
{
    public TrackedMapResult TryAdd(int pid, int rootPid)
    {
        var key = (uint)pid;
        var value = new TrackedProcess { RootPid = (uint)rootPid };
        bitmap.Set(pid);
        var result = Interop.Libbpf.MapUpdateElem(mapFd, &key, &value, Interop.Libbpf.BPF_NOEXIST);
        if (result != 0 && -result != Interop.Libc.EEXIST)
        {
            bitmap.Clear(pid); // not added: a set bit without an entry would only cost its writes a lookup
        }
        return -result switch
        {
            0 => TrackedMapResult.Added,
            Interop.Libc.EEXIST => TrackedMapResult.AlreadyPresent,
            Interop.Libc.E2BIG or Interop.Libc.ENOMEM => TrackedMapResult.Full,
            var errno => throw BpfException.From($"adding pid {pid} to the tracked map", errno),
        };
    }

    public bool Remove(int pid)
    {
        var key = (uint)pid;
        var removed = Interop.Libbpf.MapDeleteElem(mapFd, &key) == 0;
        bitmap.Clear(pid);
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

    public IReadOnlyList<(int Pid, int RootPid)> Snapshot() => Snapshot(mapFd);

    /// <summary>Every entry of a tracked map (this tracer's, or another's opened by id).</summary>
    public static IReadOnlyList<(int Pid, int RootPid)> Snapshot(int mapFd)
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
