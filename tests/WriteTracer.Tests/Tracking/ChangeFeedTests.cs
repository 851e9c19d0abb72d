using WriteTracer.Tests.Infrastructure;
using WriteTracer.Tracking;

namespace WriteTracer.Tests.Tracking;

/// <summary>
/// The registry following the kernel's reports (the changes ring, played by <see cref="FakeKernel"/>):
/// counts, exits and removals from the reports alone, and the walks of /proc where they fall short.
/// </summary>
public sealed class ChangeFeedTests : IDisposable
{
    private const int TracerPid = 9000;
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);
    private readonly FakeProc _proc = new();
    private readonly ManualTime _time = new();
    private readonly TestRegistries _registries;

    public ChangeFeedTests() => _registries = new TestRegistries(_proc.ProcFs, TracerPid, time: _time, walkInterval: Interval);

    private FakeTrackedMap Map => _registries.Map;

    private FakeKernel Kernel => _registries.Kernel;

    private PidManager Pids => _registries.Pids;

    public void Dispose() => _proc.Dispose();

    private (int Processes, int Threads) Counts(int root) => (Pids.Find(root)!.ProcessCount, Pids.Find(root)!.ThreadCount);

    private (int Processes, int Threads) Totals => (Pids.TrackedProcesses, Pids.TrackedThreads);

    [Fact]
    public void Forks_threads_and_exits_the_kernel_reports_keep_the_counts_exact_without_reading_proc()
    {
        _proc.Add(100, threads: 2);
        Assert.Equal(RegistrationStatus.Registered, Pids.Register(100, Registrant.Operator).Status);
        Assert.Equal((1, 2), Counts(100));

        // Nothing of this reaches the fake /proc: the counts can only come from the reports.
        Kernel.Fork(100, 200);
        Kernel.ThreadStart(200, 201);
        Kernel.ThreadStart(200, 202);
        Kernel.ThreadExit(200, 201);
        Kernel.Fork(200, 300);
        Kernel.ThreadStart(100, 102);
        _registries.ReadReports();
        Assert.Equal((3, 6), Counts(100)); // 100: 3 threads, 200: 2, 300: 1
        Assert.Equal((3, 6), Totals);
        Assert.Equal(new Dictionary<int, int> { [100] = 100, [200] = 100, [300] = 100 }, Map.Entries);

        Kernel.Untrack(200); // its exit, with its two threads
        _registries.ReadReports();
        Assert.Equal((2, 4), Counts(100));
        Assert.Equal((2, 4), Totals);
        Assert.Equal(0, Kernel.Pending);
    }

    [Fact]
    public void A_report_from_before_the_walk_looked_at_its_process_is_not_counted_again()
    {
        _proc.Add(100);
        _proc.Add(200, parent: 100, threads: 3);
        // The kernel inherits 200 as 100 enters the map, and reports it and two threads of it,
        // all before the walk lists 100's children and reads 200's threads from /proc.
        Map.AfterAdd = pid =>
        {
            if (pid == 100)
            {
                Kernel.Fork(100, 200);
                Kernel.ThreadStart(200, 201);
                Kernel.ThreadStart(200, 202);
            }
        };

        Pids.Register(100, Registrant.Operator);
        Assert.Equal(3, Kernel.Pending);
        _registries.ReadReports();

        Assert.Equal((2, 4), Counts(100));
        Kernel.ThreadExit(200, 202); // after the walk: counted
        _registries.ReadReports();
        Assert.Equal((2, 3), Counts(100));
    }

    [Fact]
    public void A_root_whose_exit_the_kernel_reports_is_unregistered_with_its_tree_at_once()
    {
        var changes = new List<IReadOnlyList<int>>();
        var registries = new TestRegistries(_proc.ProcFs, TracerPid, time: _time, walkInterval: Interval,
            rootsChanged: roots => changes.Add([.. roots.Select(r => r.Pid)]));
        _proc.Add(100);
        _proc.Add(200, parent: 100);
        _proc.Add(500);
        registries.Pids.Register(100, Registrant.Operator);
        registries.Pids.Register(500, Registrant.Operator);

        _proc.Exit(100);
        registries.Kernel.Untrack(100);
        registries.ReadReports();

        Assert.Equal([500], registries.Pids.Roots().Select(r => r.Pid));
        Assert.Equal(new Dictionary<int, int> { [500] = 500 }, registries.Map.Entries); // 200 lives on, untracked
        Assert.Equal((1, 1), (registries.Pids.TrackedProcesses, registries.Pids.TrackedThreads));
        Assert.Equal([[100], [100, 500], [500]], changes);
    }

    [Theory]
    [InlineData(false, false, true)]  // a privilege-gaining exec: it lives on, untraced, still registered
    [InlineData(true, false, false)]  // its exit, reported while it was still exiting
    [InlineData(false, true, false)]  // its exit, read once it is gone
    public void An_unprivileged_root_leaving_the_map_stays_registered_only_while_it_lives(bool exiting, bool gone, bool registered)
    {
        _proc.Add(100, comm: "job");
        _proc.Add(200, parent: 100);
        Pids.Register(100, new Registrant(1000, Administrator: false));
        Kernel.Fork(100, 300);
        _registries.ReadReports();
        if (exiting)
        {
            _proc.Exiting(100);
        }
        if (gone)
        {
            _proc.Exit(100);
        }

        Kernel.Untrack(100);
        _registries.ReadReports();

        Assert.Equal(registered, Pids.Find(100) is not null);
        Assert.Equal(registered ? [300] : [], Map.Entries.Keys); // 200: the registrant may not trace what /proc cannot vouch for
    }

    [Fact]
    public void Unregistering_takes_the_children_forked_a_moment_before_and_those_forked_meanwhile()
    {
        _proc.Add(100);
        Pids.Register(100, Registrant.Operator);
        Kernel.Fork(100, 200); // reported, not read yet
        var forked = false;
        Map.BeforeRemove = pid =>
        {
            if (pid == 100 && !forked)
            {
                forked = true;
                Kernel.Fork(100, 300); // as its tree is being removed
            }
        };

        Assert.NotNull(Pids.Unregister(100));
        Assert.Equal([300], Map.Entries.Keys);

        _registries.ReadReports(); // 300's report names a registration that is gone
        Assert.Empty(Map.Entries);
        Assert.Equal((0, 0), Totals);
    }

    [Fact]
    public void Reports_about_processes_the_registry_does_not_hold_change_nothing()
    {
        _proc.Add(100);
        Pids.Register(100, Registrant.Operator);
        Map.TryAdd(700, 100, unprivileged: false); // known to the kernel only

        Kernel.ThreadStart(700, 701);
        Kernel.Untrack(700);
        Kernel.ThreadStart(800, 801); // not tracked at all: no report
        _registries.ReadReports();

        Assert.Equal((1, 1), Counts(100));
        Assert.Equal([100], Map.Entries.Keys);
    }

    [Fact]
    public void Lost_reports_make_the_feed_walk_and_the_walk_restores_exact_counts()
    {
        _proc.Add(100);
        Pids.Register(100, Registrant.Operator);
        Kernel.FailReports = true;
        _proc.Add(200, parent: 100, threads: 2);
        Kernel.Fork(100, 200);
        _proc.SetThreads(100, 3);
        Kernel.ThreadStart(100, 101);
        Kernel.ThreadStart(100, 102);
        Assert.Equal(3UL, Kernel.Lost);

        _registries.ReadReports();
        Assert.Equal((2, 5), Counts(100));

        // More are lost at once: the next repair waits a second after the last walk.
        _proc.Add(300, parent: 200);
        Kernel.Fork(200, 300);
        _registries.ReadReports();
        Assert.Equal((2, 5), Counts(100));
        _time.Advance(ChangeFeed.LossWalkGap);
        _registries.ReadReports();
        Assert.Equal((3, 6), Counts(100));

        _proc.Exit(100);
        Kernel.Untrack(100); // lost too: the next walk finds the root gone
        _time.Advance(ChangeFeed.LossWalkGap);
        _registries.ReadReports();
        Assert.Empty(Pids.Roots());
        Assert.Empty(Map.Entries);
    }

    [Fact]
    public void Every_walk_interval_a_walk_adds_what_the_kernel_missed()
    {
        _proc.Add(100);
        Pids.Register(100, Registrant.Operator);
        // Forked before 100 entered the map, and missed (say, the tracked map was full then).
        _proc.Add(200, parent: 100);

        _time.Advance(Interval - TimeSpan.FromSeconds(1));
        _registries.ReadReports();
        Assert.Equal([100], Map.Entries.Keys);

        _time.Advance(TimeSpan.FromSeconds(1));
        _registries.ReadReports();
        Assert.Equal([100, 200], Map.Entries.Keys);
        Assert.Equal((2, 2), Counts(100));
    }

    [Fact]
    public void A_record_too_short_to_be_a_report_makes_the_feed_walk()
    {
        _proc.Add(100);
        Pids.Register(100, Registrant.Operator);
        _proc.Add(200, parent: 100);

        Kernel.ReportGarbage();
        _registries.ReadReports();

        Assert.Equal((2, 2), Counts(100));
    }
}
