using WriteTracer.Tracking;

namespace WriteTracer.Tests.Infrastructure;

/// <summary>An in-memory tracked_cgroups map: fixed capacity, no overwrite.</summary>
internal sealed class FakeCgroupMap(int capacity = int.MaxValue) : ICgroupMap
{
    private readonly Dictionary<ulong, (int Registration, uint Flags, uint Uid)> _entries = [];

    public IReadOnlyDictionary<ulong, (int Registration, uint Flags, uint Uid)> Entries => _entries;

    public TrackedMapResult TryAdd(ulong cgroupId, int registration, uint flags, uint uid)
    {
        if (_entries.ContainsKey(cgroupId))
        {
            return TrackedMapResult.AlreadyPresent;
        }
        if (_entries.Count >= capacity)
        {
            return TrackedMapResult.Full;
        }
        _entries.Add(cgroupId, (registration, flags, uid));
        return TrackedMapResult.Added;
    }

    public bool Remove(ulong cgroupId) => _entries.Remove(cgroupId);
}
