using WriteTracer.Tracking;

namespace WriteTracer.Tests.Infrastructure;

/// <summary>An in-memory tracked map with the BPF hash map's semantics: fixed capacity, no overwrite.</summary>
internal sealed class FakeTrackedMap(int capacity = int.MaxValue) : ITrackedMap
{
    private readonly Dictionary<int, int> _entries = [];

    /// <summary>Runs before each insertion, to change the world between the registry's look and its update.</summary>
    public Action<int>? BeforeAdd { get; set; }

    /// <summary>Runs after each insertion, to play the kernel: e.g. inherit a child forked right after its parent was added.</summary>
    public Action<int>? AfterAdd { get; set; }

    /// <summary>Runs before each removal, to play the kernel while a tree is being removed.</summary>
    public Action<int>? BeforeRemove { get; set; }

    /// <summary>pid → root pid, sorted by pid.</summary>
    public IReadOnlyDictionary<int, int> Entries => new SortedDictionary<int, int>(_entries);

    /// <summary>The pids added with the unprivileged flag.</summary>
    public HashSet<int> Unprivileged { get; } = [];

    public TrackedMapResult TryAdd(int pid, int rootPid, bool unprivileged = false)
    {
        BeforeAdd?.Invoke(pid);
        if (_entries.ContainsKey(pid))
        {
            return TrackedMapResult.AlreadyPresent;
        }
        if (_entries.Count >= capacity)
        {
            return TrackedMapResult.Full;
        }
        _entries.Add(pid, rootPid);
        if (unprivileged)
        {
            Unprivileged.Add(pid);
        }
        AfterAdd?.Invoke(pid);
        return TrackedMapResult.Added;
    }

    public bool Remove(int pid)
    {
        BeforeRemove?.Invoke(pid);
        Unprivileged.Remove(pid);
        return _entries.Remove(pid);
    }

    public bool TryGetRoot(int pid, out int rootPid) => _entries.TryGetValue(pid, out rootPid);

    public IReadOnlyList<(int Pid, int RootPid)> Snapshot() => [.. _entries.Select(e => (e.Key, e.Value))];
}
