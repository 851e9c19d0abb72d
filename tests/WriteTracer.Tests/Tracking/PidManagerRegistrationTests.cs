using WriteTracer.Tests.Infrastructure;
using WriteTracer.Tracking;

namespace WriteTracer.Tests.Tracking;

/// <summary>Registration edge cases of <see cref="PidManager"/>, over a fake /proc and a fake kernel map.</summary>
public sealed class PidManagerRegistrationTests : IDisposable
{
    private const int Init = 1, Self = 4242;
    private readonly ProcFixture _proc = new();
    private readonly TestRegistries _registries;
    private readonly FakeTrackedMap _map;
    private readonly PidManager _pids;
    private bool _tracing;

    public PidManagerRegistrationTests()
    {
        _proc.AddProcess(Init, 0, startTime: 1, comm: "init");
        _proc.AddProcess(Self, Init, startTime: 2, comm: "write-tracer");
        _registries = new TestRegistries(_proc.ProcFs, Self, pidTracing: tracing => _tracing = tracing);
        _map = _registries.Map;
        _pids = _registries.Pids;
    }

    public void Dispose() => _proc.Dispose();

    [Fact]
    public void Registers_a_tree_and_one_unregister_removes_all_of_it()
    {
        _proc.AddProcess(100, Init, startTime: 10);
        _proc.AddProcess(101, 100, startTime: 11);
        _proc.AddProcess(102, 101, startTime: 12);

        var registration = _pids.Register(100, Registrant.Operator);

        Assert.Equal(RegistrationStatus.Registered, registration.Status);
        Assert.Equal(new Dictionary<int, int> { [100] = 100, [101] = 100, [102] = 100 }, _map.Entries);
        Assert.Equal(3, registration.Root!.ProcessCount);
        Assert.True(_tracing);
        Assert.Equal(100, _pids.RootOf(102));

        Assert.Equal(100, _pids.Unregister(100)?.Pid);
        Assert.Empty(_map.Entries);
        Assert.False(_tracing);
        Assert.Null(_pids.Unregister(100));
    }

    [Fact]
    public void A_failed_registration_also_removes_children_the_kernel_added_meanwhile()
    {
        using var proc = new ProcFixture();
        proc.AddProcess(100, Init, startTime: 10);
        proc.AddProcess(101, 100, startTime: 11);
        // Room for the root and the child it forks as it enters the map, none for 101.
        var map = new FakeTrackedMap(capacity: 2);
        var tracing = false;
        var registries = new TestRegistries(proc.ProcFs, Self, map, t => tracing = t);
        map.AfterAdd = pid =>
        {
            if (pid == 100)
            {
                registries.Kernel.Fork(100, 150); // inherited at fork by the kernel, unknown to the walk until its report is read
            }
        };
        var pids = registries.Pids;

        var registration = pids.Register(100, Registrant.Operator);

        Assert.Equal(RegistrationStatus.MapFull, registration.Status);
        Assert.Empty(map.Entries);
        Assert.Empty(pids.Roots());
        Assert.False(tracing);
    }

    [Fact]
    public void A_thread_id_is_refused_naming_its_process()
    {
        _proc.AddProcess(100, Init, startTime: 10);
        _proc.AddProcess(103, Init, startTime: 10, tgid: 100);

        var registration = _pids.Register(103, Registrant.Operator);

        Assert.Equal(RegistrationStatus.Thread, registration.Status);
        Assert.Equal(100, registration.RootPid);
        Assert.Equal("103 is a thread of process 100, not a process: register 100", registration.Describe());
        Assert.Empty(_map.Entries);
    }

    [Theory]
    [InlineData(0, nameof(RegistrationStatus.InvalidPid))]
    [InlineData(-7, nameof(RegistrationStatus.InvalidPid))]
    [InlineData(32769, nameof(RegistrationStatus.OutOfRange))]
    [InlineData(int.MaxValue, nameof(RegistrationStatus.OutOfRange))]
    [InlineData(Self, nameof(RegistrationStatus.Self))]
    [InlineData(555, nameof(RegistrationStatus.NotFound))]
    public void Invalid_pids_are_refused_without_touching_the_map(int pid, string expected)
    {
        var registration = _pids.Register(pid, Registrant.Operator);

        Assert.Equal(expected, registration.Status.ToString());
        Assert.Empty(_map.Entries);
        Assert.False(_tracing);
    }

    [Fact]
    public void Out_of_range_names_the_kernel_limit()
    {
        Assert.Equal("pid 40000 is out of range: process ids go from 1 to 32768 (kernel.pid_max)", _pids.Register(40000, Registrant.Operator).Describe());
    }

    [Fact]
    public void A_descendant_of_a_root_is_refused_naming_the_root()
    {
        _proc.AddProcess(100, Init, startTime: 10);
        _proc.AddProcess(101, 100, startTime: 11);
        _pids.Register(100, Registrant.Operator);

        var registration = _pids.Register(101, Registrant.Operator);

        Assert.Equal(RegistrationStatus.AlreadyTracked, registration.Status);
        Assert.Equal("process 101 is already tracked as a descendant of registered process 100", registration.Describe());
        Assert.Equal(RegistrationStatus.AlreadyRegistered, _pids.Register(100, Registrant.Operator).Status);
    }

    [Fact]
    public void An_entry_left_by_a_removed_tree_does_not_block_registration()
    {
        _proc.AddProcess(100, Init, startTime: 10);
        _map.TryAdd(100, 999); // a child forked while root 999's tree was being removed

        Assert.Null(_pids.RootOf(100));
        var registration = _pids.Register(100, Registrant.Operator);

        Assert.Equal(RegistrationStatus.Registered, registration.Status);
        Assert.Equal(100, _map.Entries[100]);
    }

    [Fact]
    public void A_root_whose_pid_was_reused_is_replaced_on_registration_before_the_next_reconciliation()
    {
        _proc.AddProcess(100, Init, startTime: 10, comm: "old");
        _pids.Register(100, Registrant.Operator);
        _proc.Remove(100);
        _proc.AddProcess(100, Init, startTime: 99, comm: "new");

        var registration = _pids.Register(100, Registrant.Operator);

        Assert.Equal(RegistrationStatus.Registered, registration.Status);
        Assert.Equal("new", _pids.Find(100)!.Comm);
        Assert.Equal(99UL, _pids.Find(100)!.StartTime);
    }

    [Fact]
    public void A_walk_unregisters_exited_and_reused_roots_with_their_trees()
    {
        _proc.AddProcess(100, Init, startTime: 10);
        _proc.AddProcess(101, 100, startTime: 11);
        _proc.AddProcess(200, Init, startTime: 20);
        _proc.AddProcess(300, Init, startTime: 30);
        _pids.Register(100, Registrant.Operator);
        _pids.Register(200, Registrant.Operator);
        _pids.Register(300, Registrant.Operator);

        _proc.Remove(100);                                     // exited; its child lives on
        _proc.Remove(200);
        _proc.AddProcess(200, Init, startTime: 21);             // pid reused by another process
        _registries.Feed.Walk();

        Assert.Equal([300], _pids.Roots().Select(r => r.Pid));
        Assert.Equal(new Dictionary<int, int> { [300] = 300 }, _map.Entries);
        Assert.True(_tracing);
    }

    [Fact]
    public void An_unprivileged_registration_flags_its_tree_and_leaves_out_what_its_registrant_may_not_trace()
    {
        var uid = Registrant.Operator.Uid;
        _proc.AddProcess(100, Init, startTime: 10);
        _proc.AddProcess(101, 100, startTime: 11);
        // A setuid program below the root, and what it started: the registrant could not strace them.
        _proc.AddProcess(102, 100, startTime: 12, uid: uid + 1);
        _proc.AddProcess(103, 102, startTime: 13);

        var registration = _pids.Register(100, new Registrant(uid, Administrator: false));

        Assert.Equal(RegistrationStatus.Registered, registration.Status);
        Assert.Equal(new Dictionary<int, int> { [100] = 100, [101] = 100 }, _map.Entries);
        Assert.Equal([100, 101], _map.Unprivileged.Order());
        Assert.Equal(new Registrant(uid, false), registration.Root!.Registrant);

        _registries.Feed.Walk(); // the walker keeps leaving them out
        Assert.Equal(new Dictionary<int, int> { [100] = 100, [101] = 100 }, _map.Entries);
    }

    [Fact]
    public void An_administrators_registration_takes_the_whole_tree_unflagged()
    {
        _proc.AddProcess(100, Init, startTime: 10);
        _proc.AddProcess(102, 100, startTime: 12, uid: Registrant.Operator.Uid + 1);

        Assert.Equal(RegistrationStatus.Registered, _pids.Register(100, new Registrant(1000, Administrator: true)).Status);

        Assert.Equal(new Dictionary<int, int> { [100] = 100, [102] = 100 }, _map.Entries);
        Assert.Empty(_map.Unprivileged);
    }

    [Fact]
    public void A_pid_reused_after_the_permission_check_is_not_registered()
    {
        _proc.AddProcess(100, Init, startTime: 10);

        Assert.Equal(RegistrationStatus.NotFound, _pids.Register(100, Registrant.Operator, expectedStartTime: 9).Status);
        Assert.Empty(_map.Entries);
    }

    [Fact]
    public void Every_change_of_the_roots_is_reported_and_restore_keeps_only_the_same_processes()
    {
        var reported = new List<IReadOnlyList<int>>();
        var registries = new TestRegistries(_proc.ProcFs, Self, rootsChanged: roots => reported.Add([.. roots.Select(r => r.Pid)]));
        var pids = registries.Pids;
        _proc.AddProcess(100, Init, startTime: 10);
        _proc.AddProcess(101, 100, startTime: 11);
        _proc.AddProcess(200, Init, startTime: 20);

        pids.Restore([
            new RootProcess(100, 10, "worker", DateTimeOffset.UnixEpoch, new Registrant(7, false)),
            new RootProcess(200, 19, "worker", DateTimeOffset.UnixEpoch, Registrant.Operator), // reused since
            new RootProcess(300, 30, "worker", DateTimeOffset.UnixEpoch, Registrant.Operator), // exited
        ]);
        Assert.Equal([100], pids.Roots().Select(r => r.Pid));
        Assert.Equal(new Registrant(7, false), pids.Find(100)!.Registrant);
        Assert.Equal(new Dictionary<int, int> { [100] = 100 }, registries.Map.Entries); // 101 is not uid 7's
        pids.Unregister(100);

        Assert.Equal([[100], []], reported);
    }
}
