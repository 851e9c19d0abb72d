using System.Collections.Concurrent;
using System.Text;

namespace WriteTracer.Tracking;

/// <summary>
/// The ids of cgroup registrations and the names events show for them. A cgroup
/// registration's id is what tracked_process.root_pid holds for its processes; ids start
/// above the largest possible pid, so one number names one registration, pid or cgroup.
/// Names are kept after unregistration: events already in the ring still name theirs.
/// </summary>
internal sealed class CgroupNames
{
    public const int FirstId = ProcFs.PidMaxLimit + 1;

    /// <summary>The longest cgroup name (relative to the mount) that can be registered, so event lines stay bounded.</summary>
    public const int MaxNameBytes = 1024;

    private readonly ConcurrentDictionary<int, byte[]> _names = new();
    private int _lastId = FirstId - 1;

    /// <summary>True when a tracked map's root is a cgroup registration rather than a pid.</summary>
    public static bool IsCgroupRegistration(long root) => root >= FirstId;

    /// <summary>A new registration id for the cgroup named name.</summary>
    public int Allocate(string name)
    {
        var id = Interlocked.Increment(ref _lastId);
        _names[id] = Encoding.UTF8.GetBytes(name);
        return id;
    }

    /// <summary>The registration's cgroup relative to the mount ("/system.slice/nginx.service"), UTF-8; empty when unknown.</summary>
    public ReadOnlySpan<byte> Utf8Of(uint registration) =>
        registration <= int.MaxValue && _names.TryGetValue((int)registration, out var name) ? name : default;

    public string NameOf(int registration) => Encoding.UTF8.GetString(Utf8Of((uint)registration));
}
