namespace WriteTracer.Tracking;

/// <summary>A registered cgroup: every process in it, or in a cgroup below it, is traced.</summary>
/// <param name="Id">The kernel's cgroup id (its directory's inode number): the directory recreated under the same path is another cgroup.</param>
/// <param name="Registration">What the tracked map holds as the root of its processes (<see cref="CgroupNames"/>).</param>
/// <param name="Registrant">Who registered it: a non-administrator's registration takes only what they may trace.</param>
internal sealed class RegisteredCgroup(CgroupPath path, ulong id, int registration, Registrant registrant, DateTimeOffset registeredAt)
{
    public CgroupPath Path => path;

    /// <summary>Relative to the mount, as events show it: "/system.slice/nginx.service".</summary>
    public string Name => path.Name;

    public ulong Id => id;

    public int Registration => registration;

    public Registrant Registrant => registrant;

    public DateTimeOffset RegisteredAt => registeredAt;

    /// <summary>Its share of the tracked set, once registered.</summary>
    internal MemberCounts Members { get; set; } = new();

    /// <summary>Processes traced through this registration.</summary>
    public int ProcessCount => Members.Processes;

    /// <summary>True when other is this cgroup or lies below it.</summary>
    public bool Covers(CgroupPath other) =>
        other.Name == Name || other.Name.StartsWith(Name + "/", StringComparison.Ordinal);
}
