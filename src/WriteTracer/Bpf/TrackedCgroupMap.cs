using WriteTracer.Native;
using WriteTracer.Tracking;

namespace WriteTracer.Bpf;

/// <summary>The BPF hash map of registered cgroups (tracked_cgroups), written from user space.</summary>
internal sealed unsafe class TrackedCgroupMap(int mapFd) : ICgroupMap
{
    public TrackedMapResult TryAdd(ulong cgroupId, int registration, uint flags, uint uid)
    {
        var key = cgroupId;
        var value = new TrackedCgroup { Registration = (uint)registration, Flags = flags, Uid = uid };
        return TrackedProcessMap.Inserted(Interop.Libbpf.MapUpdateElem(mapFd, &key, &value, Interop.Libbpf.BPF_NOEXIST),
            $"cgroup {cgroupId}", "tracked_cgroups");
    }

    public bool Remove(ulong cgroupId)
    {
        var key = cgroupId;
        return Interop.Libbpf.MapDeleteElem(mapFd, &key) == 0;
    }
}
