using WriteTracer.Tracking;

namespace WriteTracer.Tests.Infrastructure;

/// <summary>
/// The registries as the tracer wires them, over fakes: a tracked map with its kernel, the
/// tracked set, the pid and cgroup registries and the change feed between them.
/// </summary>
internal sealed class TestRegistries
{
    public TestRegistries(ProcFs proc, int selfPid, FakeTrackedMap? map = null, Action<bool>? pidTracing = null,
        CgroupHierarchy? hierarchy = null, Action<bool>? cgroupTracing = null, TimeProvider? time = null,
        Action<IReadOnlyList<RootProcess>>? rootsChanged = null, Action<IReadOnlyList<RegisteredCgroup>>? cgroupsChanged = null,
        TimeSpan? walkInterval = null)
    {
        Map = map ?? new FakeTrackedMap();
        Kernel = new FakeKernel(Map);
        Members = new TrackedSet(Map, proc, Kernel.Now);
        Pids = new PidManager(Members, proc, selfPid, pidTracing ?? (_ => { }), time, rootsChanged, Names);
        Cgroups = new CgroupRegistry(hierarchy, Members, CgroupMap, Names, proc, selfPid, cgroupTracing ?? (_ => { }), time, cgroupsChanged);
        Feed = new ChangeFeed(Kernel, Members, Pids, Cgroups, () => Kernel.Lost, walkInterval ?? TimeSpan.FromHours(1), time);
    }

    public FakeTrackedMap Map { get; }

    public FakeKernel Kernel { get; }

    public FakeCgroupMap CgroupMap { get; } = new();

    public CgroupNames Names { get; } = new();

    public TrackedSet Members { get; }

    public PidManager Pids { get; }

    public CgroupRegistry Cgroups { get; }

    public ChangeFeed Feed { get; }

    /// <summary>The feed reads what the kernel reported (one cycle, no wait).</summary>
    public void ReadReports() => Feed.Cycle();
}
