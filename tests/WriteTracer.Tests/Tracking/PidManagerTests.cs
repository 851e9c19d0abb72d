using WriteTracer.Tests.Infrastructure;
using WriteTracer.Tracking;

namespace WriteTracer.Tests.Tracking;

public sealed class PidManagerTests : IDisposable
{
    private const int TracerPid = 9000;
    private readonly FakeProc _proc = new();
    private readonly List<bool> _tracing = [];
    private TestRegistries _registries;

    public PidManagerTests() => _registries = NewRegistries();

    private FakeTrackedMap Map => _registries.Map;

    private FakeKernel Kernel => _registries.Kernel;

    private PidManager Pids => _registries.Pids;

    private TestRegistries NewRegistries(FakeTrackedMap? map = null, TimeProvider? time = null) =>
        new(_proc.ProcFs, TracerPid, map, _tracing.Add, time: time);

    /// <summary>Starts over with a tracked map that holds only this many processes.</summary>
    private void LimitMapTo(int capacity) => _registries = NewRegistries(new FakeTrackedMap(capacity));

    /// <summary>A walk of /proc: after a lost report, and every tracking interval.</summary>
    private void Walk() => _registries.Feed.Walk();

    public void Dispose() => _proc.Dispose();

    /// <summary>
    /// 100 (3 threads) ─┬─ 200 (2 threads) ── 400, forked by thread 201
    ///                  └─ 300, forked by thread 101
    /// </summary>
    private void AddTree()
    {
        _proc.Add(100, threads: 3, comm: "server");
        _proc.Add(200, parent: 100, threads: 2);
        _proc.Add(300, parent: 100, spawnedBy: 101);
        _proc.Add(400, parent: 200, spawnedBy: 201);
    }

    [Fact]
    public void Registering_a_root_tracks_its_whole_tree_and_counts_threads()
    {
        AddTree();

        var registration = Pids.Register(100, Registrant.Operator);

        Assert.Equal(RegistrationStatus.Registered, registration.Status);
        Assert.Equal(100, registration.RootPid);
        Assert.Equal(new Dictionary<int, int> { [100] = 100, [200] = 100, [300] = 100, [400] = 100 }, Map.Entries);
        Assert.Equal(4, Pids.TrackedProcesses);
        Assert.Equal(7, Pids.TrackedThreads);
        var root = Assert.IsType<RootProcess>(registration.Root);
        Assert.Same(root, Pids.Find(100));
        Assert.Equal((100, "server", 1100UL, 4, 7), (root.Pid, root.Comm, root.StartTime, root.ProcessCount, root.ThreadCount));
        Assert.Equal("tracking process 100 (server) with 7 threads in 4 processes", registration.Describe());
        Assert.Equal([true], _tracing);
    }

    [Fact]
    public void A_launched_command_is_named_as_its_exec_will_name_it_not_as_the_shell_holding_it()
    {
        _proc.Add(100, comm: "sh");

        var registration = Pids.Register(100, Registrant.Operator, comm: "python3");

        Assert.Equal("python3", registration.Root!.Comm);
        Assert.Equal("tracking process 100 (python3) with 1 thread in 1 process", registration.Describe());
    }

    [Fact]
    public void A_lone_single_threaded_process_is_described_in_the_singular()
    {
        _proc.Add(100, comm: "server");

        Assert.Equal("tracking process 100 (server) with 1 thread in 1 process", Pids.Register(100, Registrant.Operator).Describe());
    }

    [Fact]
    public void Registering_a_registered_root_again_is_refused()
    {
        AddTree();
        Pids.Register(100, Registrant.Operator);

        var again = Pids.Register(100, Registrant.Operator);

        Assert.Equal(RegistrationStatus.AlreadyRegistered, again.Status);
        Assert.Equal("process 100 is already registered", again.Describe());
        Assert.Equal(1, Pids.RootCount);
        Assert.Equal(4, Map.Entries.Count);
    }

    [Fact]
    public void Registering_a_descendant_of_a_root_reports_its_owner()
    {
        AddTree();
        Pids.Register(100, Registrant.Operator);

        var descendant = Pids.Register(400, Registrant.Operator);

        Assert.Equal(RegistrationStatus.AlreadyTracked, descendant.Status);
        Assert.Equal(100, descendant.RootPid);
        Assert.Equal("process 400 is already tracked as a descendant of registered process 100", descendant.Describe());
        Assert.Null(Pids.Find(400));
        Assert.Equal(100, Map.Entries[400]);
    }

    [Fact]
    public void The_tracer_itself_is_refused()
    {
        _proc.Add(TracerPid);

        var self = Pids.Register(TracerPid, Registrant.Operator);

        Assert.Equal(RegistrationStatus.Self, self.Status);
        Assert.Empty(Map.Entries);
        Assert.Empty(_tracing);
    }

    [Fact]
    public void The_tracer_is_left_out_of_a_tree_it_belongs_to()
    {
        // sudo write-tracer -p $$: the tracer is a child of the root it traces.
        _proc.Add(100);
        _proc.Add(TracerPid, parent: 100);
        _proc.Add(TracerPid + 10, parent: TracerPid);

        Assert.Equal(RegistrationStatus.Registered, Pids.Register(100, Registrant.Operator).Status);

        Assert.Equal([100], Map.Entries.Keys);
        Walk();
        Assert.Equal([100], Map.Entries.Keys);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void A_non_positive_pid_is_refused(int pid)
    {
        Assert.Equal(RegistrationStatus.InvalidPid, Pids.Register(pid, Registrant.Operator).Status);
        Assert.Empty(_tracing);
    }

    [Fact]
    public void A_missing_process_is_refused()
    {
        var missing = Pids.Register(12345, Registrant.Operator);

        Assert.Equal(RegistrationStatus.NotFound, missing.Status);
        Assert.Equal("no such process: 12345", missing.Describe());
        Assert.Empty(Map.Entries);
        Assert.Empty(_tracing);
    }

    [Fact]
    public void A_zombie_is_refused()
    {
        _proc.Add(100);
        _proc.Zombie(100);

        Assert.Equal(RegistrationStatus.NotFound, Pids.Register(100, Registrant.Operator).Status);
        Assert.Empty(Map.Entries);
        Assert.Equal(0, Pids.RootCount);
    }

    [Fact]
    public void A_pid_reused_between_the_first_look_and_the_map_update_is_refused_and_rolled_back()
    {
        _proc.Add(100, startTime: 1000);
        Map.BeforeAdd = pid =>
        {
            if (pid == 100)
            {
                _proc.Reuse(100, startTime: 2000);
            }
        };

        var registration = Pids.Register(100, Registrant.Operator);

        Assert.Equal(RegistrationStatus.NotFound, registration.Status);
        Assert.Empty(Map.Entries);
        Assert.Equal(0, Pids.RootCount);
        Assert.Equal([true, false], _tracing);
    }

    [Fact]
    public void A_full_map_rolls_back_the_whole_tree_and_keeps_other_roots()
    {
        LimitMapTo(5);
        _proc.Add(50);
        _proc.Add(60, parent: 50);
        Assert.Equal(RegistrationStatus.Registered, Pids.Register(50, Registrant.Operator).Status);
        AddTree();

        var registration = Pids.Register(100, Registrant.Operator);

        Assert.Equal(RegistrationStatus.MapFull, registration.Status);
        Assert.Equal("cannot track process 100: the tracked-process map is full (--max-tracked-processes)", registration.Describe());
        Assert.Equal(new Dictionary<int, int> { [50] = 50, [60] = 50 }, Map.Entries);
        Assert.Null(Pids.Find(100));
        Assert.Equal(1, Pids.RootCount);
        Assert.Equal((2, 2), (Pids.TrackedProcesses, Pids.TrackedThreads));
        Assert.Equal([true, true, true], _tracing);
    }

    [Fact]
    public void A_full_map_with_no_other_root_turns_tracing_off_again()
    {
        LimitMapTo(2);
        AddTree();

        Assert.Equal(RegistrationStatus.MapFull, Pids.Register(100, Registrant.Operator).Status);

        Assert.Empty(Map.Entries);
        Assert.Equal([true, false], _tracing);
    }

    [Fact]
    public void Unregistering_removes_only_that_roots_tree()
    {
        AddTree();
        _proc.Add(500, threads: 2);
        _proc.Add(600, parent: 500);
        Pids.Register(100, Registrant.Operator);
        Pids.Register(500, Registrant.Operator);
        // A child the kernel added at fork, after registration.
        _proc.Add(700, parent: 500);
        Kernel.Fork(500, 700);

        Assert.NotNull(Pids.Unregister(500));

        Assert.Equal(new Dictionary<int, int> { [100] = 100, [200] = 100, [300] = 100, [400] = 100 }, Map.Entries);
        Assert.Null(Pids.Find(500));
        Assert.Equal([100], Pids.Roots().Select(r => r.Pid));
        Assert.Equal((4, 7), (Pids.TrackedProcesses, Pids.TrackedThreads));
        Assert.Equal([true, true, true], _tracing);
    }

    [Fact]
    public void Unregistering_the_last_root_turns_tracing_off()
    {
        AddTree();
        Pids.Register(100, Registrant.Operator);

        Assert.NotNull(Pids.Unregister(100));

        Assert.Empty(Map.Entries);
        Assert.Equal((0, 0), (Pids.TrackedProcesses, Pids.TrackedThreads));
        Assert.False(_tracing[^1]);
    }

    [Fact]
    public void Unregistering_what_is_not_a_root_changes_nothing()
    {
        AddTree();
        Pids.Register(100, Registrant.Operator);

        Assert.Null(Pids.Unregister(200));
        Assert.Null(Pids.Unregister(12345));

        Assert.Equal(4, Map.Entries.Count);
        Assert.Equal([true], _tracing);
    }

    [Fact]
    public void Roots_are_listed_in_registration_order()
    {
        var pids = NewRegistries(time: new SteppingTimeProvider()).Pids;
        foreach (var pid in new[] { 300, 100, 200 })
        {
            _proc.Add(pid);
            pids.Register(pid, Registrant.Operator);
        }

        Assert.Equal([300, 100, 200], pids.Roots().Select(r => r.Pid));
        Assert.True(pids.Find(300)!.RegisteredAt < pids.Find(100)!.RegisteredAt);
    }

    [Fact]
    public void A_walk_unregisters_a_root_that_exited_with_its_tree()
    {
        AddTree();
        _proc.Add(500);
        Pids.Register(100, Registrant.Operator);
        Pids.Register(500, Registrant.Operator);

        _proc.Exit(100);
        Walk();

        // 200 and 300 outlive their parent (re-parented to 1), but they leave with their root.
        Assert.Equal(new Dictionary<int, int> { [500] = 500 }, Map.Entries);
        Assert.Equal([500], Pids.Roots().Select(r => r.Pid));
        Assert.Equal((1, 1), (Pids.TrackedProcesses, Pids.TrackedThreads));
        Assert.True(_tracing[^1]);
    }

    [Fact]
    public void A_walk_unregisters_a_root_whose_pid_was_reused()
    {
        AddTree();
        Pids.Register(100, Registrant.Operator);

        _proc.Reuse(100, startTime: 777_777);
        Walk();

        Assert.Empty(Map.Entries);
        Assert.Equal(0, Pids.RootCount);
        Assert.Equal([true, false], _tracing);
    }

    [Fact]
    public void A_walk_unregisters_a_root_that_became_a_zombie()
    {
        AddTree();
        Pids.Register(100, Registrant.Operator);

        _proc.Zombie(100);
        Walk();

        Assert.Empty(Map.Entries);
        Assert.Equal(0, Pids.RootCount);
    }

    [Fact]
    public void A_walk_removes_dead_entries_and_orphans()
    {
        AddTree();
        Pids.Register(100, Registrant.Operator);
        _proc.Exit(300);
        _proc.Zombie(400);
        // An entry whose root is not registered (say, inherited just as its root was unregistered).
        _proc.Add(800, parent: 1);
        Map.TryAdd(800, 4242);
        // An entry of the tree whose process is gone before the kernel removed it.
        Map.TryAdd(900, 100);

        Walk();

        Assert.Equal(new Dictionary<int, int> { [100] = 100, [200] = 100 }, Map.Entries);
        Assert.Equal((2, 5), (Pids.TrackedProcesses, Pids.TrackedThreads));
        var root = Pids.Find(100)!;
        Assert.Equal((2, 5), (root.ProcessCount, root.ThreadCount));
    }

    [Fact]
    public void A_zombie_descendant_is_not_tracked_at_registration_or_by_a_walk()
    {
        AddTree();
        _proc.Zombie(400);

        Pids.Register(100, Registrant.Operator);
        Assert.Equal([100, 200, 300], Map.Entries.Keys);

        Walk();
        Assert.Equal([100, 200, 300], Map.Entries.Keys);
    }

    [Fact]
    public void A_walk_adds_descendants_that_appeared_and_counts_them()
    {
        AddTree();
        Pids.Register(100, Registrant.Operator);
        // Forked before their parents entered the map, so the kernel did not inherit them.
        _proc.Add(410, parent: 400, threads: 3);
        _proc.Add(420, parent: 410);
        _proc.Add(310, parent: 300);

        Walk();

        Assert.Equal([100, 200, 300, 310, 400, 410, 420], Map.Entries.Keys);
        Assert.All(Map.Entries.Values, root => Assert.Equal(100, root));
        Assert.Equal((7, 12), (Pids.TrackedProcesses, Pids.TrackedThreads));
    }

    [Fact]
    public void A_walk_leaves_another_roots_subtree_to_that_root()
    {
        AddTree();
        Pids.Register(200, Registrant.Operator);
        Pids.Register(100, Registrant.Operator);
        _proc.Add(450, parent: 400);

        Walk();

        Assert.Equal(new Dictionary<int, int> { [100] = 100, [200] = 200, [300] = 100, [400] = 200, [450] = 200 }, Map.Entries);
    }

    [Fact]
    public void Tracing_is_on_while_any_root_is_registered()
    {
        _proc.Add(100);
        _proc.Add(200);

        Pids.Register(100, Registrant.Operator);
        Pids.Register(200, Registrant.Operator);
        Pids.Unregister(100);
        _proc.Exit(200);
        Walk();

        Assert.Equal([true, true, true, false], _tracing);
        Assert.Equal(0, Pids.RootCount);
    }

    /// <summary>Each reading is one second after the previous one.</summary>
    private sealed class SteppingTimeProvider : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 11, 22, 4, 18, 40, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now = _now.AddSeconds(1);
    }
}
