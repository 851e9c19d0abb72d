using WriteTracer.Tracking;

namespace WriteTracer.Tests.Tracking;

/// <summary>
/// The kernel's tracked map in memory, with its capacity. <see cref="OnAdded"/> lets a
/// test play the kernel: e.g. inherit a child forked right after its parent was added.
/// </summary>
internal sealed class CapacityTrackedMap(int capacity = 65536) : ITrackedMap
{
    public Dictionary<int, int> Entries { get; } = [];

    public Action<int>? OnAdded { get; set; }

    public TrackedMapResult TryAdd(int pid, int rootPid)
    {
        if (Entries.ContainsKey(pid))
        {
            return TrackedMapResult.AlreadyPresent;
        }
        if (Entries.Count >= capacity)
        {
            return TrackedMapResult.Full;
        }
        Entries.Add(pid, rootPid);
        OnAdded?.Invoke(pid);
        return TrackedMapResult.Added;
    }

    public bool Remove(int pid) => Entries.Remove(pid);

    public bool TryGetRoot(int pid, out int rootPid) => Entries.TryGetValue(pid, out rootPid);

    public IReadOnlyList<(int Pid, int RootPid)> Snapshot() => [.. Entries.Select(e => (e.Key, e.Value))];
}
