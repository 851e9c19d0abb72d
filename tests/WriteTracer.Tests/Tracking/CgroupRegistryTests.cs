using WriteTracer.Bpf;
using WriteTracer.Tests.Infrastructure;
using WriteTracer.Tracking;

namespace WriteTracer.Tests.Tracking;

/// <summary>The cgroup registry over a fake /proc, a cgroup tree in a temporary directory and in-memory maps.</summary>
public sealed class CgroupRegistryTests : IDisposable
{
    private const int TracerPid = 9000;
    private readonly FakeProc _proc = new();
    private readonly TempDirectory _mount = new("wt-cgroup2-");
    private readonly List<bool> _tracing = [];
    private readonly List<IReadOnlyList<RegisteredCgroup>> _saved = [];
    private readonly TestRegistries _registries;
    private readonly FakeTrackedMap _map;
    private readonly FakeCgroupMap _cgroupMap;
    private readonly CgroupNames _names;
    private readonly CgroupRegistry _cgroups;

    public CgroupRegistryTests()
    {
        _registries = new TestRegistries(_proc.ProcFs, TracerPid, hierarchy: new CgroupHierarchy(_mount.Path), cgroupTracing: _tracing.Add,
            cgroupsChanged: _saved.Add);
        (_map, _cgroupMap, _names, _cgroups) = (_registries.Map, _registries.CgroupMap, _registries.Names, _registries.Cgroups);
    }

    public void Dispose()
    {
        _proc.Dispose();
        _mount.Dispose();
    }

    [Fact]
    public void Registering_tracks_every_process_of_the_subtree_under_the_registration_and_tells_the_kernel()
    {
        MakeCgroup("/app.slice", 100);
        MakeCgroup("/app.slice/web.service", 200, 201);
        MakeCgroup("/other", 300);

        var registration = _cgroups.Register("app.slice", Registrant.Operator);

        Assert.Equal(CgroupRegistrationStatus.Registered, registration.Status);
        var cgroup = registration.Cgroup!;
        Assert.Equal("/app.slice", cgroup.Name);
        Assert.True(CgroupNames.IsCgroupRegistration(cgroup.Registration));
        Assert.Equal(new Dictionary<int, int> { [100] = cgroup.Registration, [200] = cgroup.Registration, [201] = cgroup.Registration }, _map.Entries);
        Assert.Empty(_map.Unprivileged);
        Assert.Equal((cgroup.Registration, 0u, 0u), Assert.Single(_cgroupMap.Entries, e => e.Key == cgroup.Id).Value);
        Assert.Equal(3, cgroup.ProcessCount);
        Assert.Equal($"tracking cgroup /app.slice (id {cgroup.Id}) with 3 processes", registration.Describe());
        Assert.Equal("/app.slice", _names.NameOf(cgroup.Registration));
        Assert.Equal([true], _tracing);
        Assert.Equal([cgroup], Assert.Single(_saved));
    }

    [Fact]
    public void A_process_a_pid_registration_traces_keeps_it_and_the_tracer_is_never_added()
    {
        MakeCgroup("/app", 100, 101, TracerPid);
        Assert.Equal(RegistrationStatus.Registered, _registries.Pids.Register(101, Registrant.Operator).Status);

        var cgroup = _cgroups.Register("/app", Registrant.Operator).Cgroup!;

        Assert.Equal(new Dictionary<int, int> { [100] = cgroup.Registration, [101] = 101 }, _map.Entries);
    }

    [Fact]
    public void A_process_that_left_the_cgroup_while_it_was_listed_is_not_tracked()
    {
        MakeCgroup("/app", 100, 101);
        // Moved out right after the registry listed it (and before the kernel had an entry to remove).
        _map.AfterAdd = pid =>
        {
            if (pid == 101)
            {
                File.WriteAllText(Path.Join(_mount.Path, "app", "cgroup.procs"), "100\n");
            }
        };

        var cgroup = _cgroups.Register("/app", Registrant.Operator).Cgroup!;

        Assert.Equal(new Dictionary<int, int> { [100] = cgroup.Registration }, _map.Entries);
    }

    [Fact]
    public void Members_the_kernel_reports_count_with_their_threads_a_moved_one_with_those_proc_shows()
    {
        MakeCgroup("/app", 100);
        var cgroup = _cgroups.Register("/app", Registrant.Operator).Cgroup!;
        _proc.Add(300, threads: 4);

        _registries.Kernel.Fork(100, 200); // forked inside: one thread
        _registries.Kernel.Join(300, cgroup.Registration); // moved in, with its threads
        _registries.ReadReports();
        Assert.Equal(3, cgroup.ProcessCount);
        Assert.Equal((3, 6), (_registries.Members.Processes, _registries.Members.Threads));

        _registries.Kernel.Untrack(300); // moved out again
        _registries.ReadReports();
        Assert.Equal(2, cgroup.ProcessCount);
        Assert.Equal(new Dictionary<int, int> { [100] = cgroup.Registration, [200] = cgroup.Registration }, _map.Entries);
    }

    [Fact]
    public void A_cgroup_registered_or_covered_by_a_registered_one_is_a_conflict_and_a_missing_one_not_found()
    {
        MakeCgroup("/app");
        MakeCgroup("/app/inner");
        File.WriteAllText(Path.Join(_mount.Path, "app", "notes"), "");
        var app = _cgroups.Register("/app", Registrant.Operator).Cgroup!;

        Assert.Equal((CgroupRegistrationStatus.AlreadyRegistered, app), Outcome(_cgroups.Register("app/", Registrant.Operator)));
        Assert.Equal((CgroupRegistrationStatus.Covered, app), Outcome(_cgroups.Register("/app/inner", Registrant.Operator)));
        Assert.Equal("cgroup /app/inner is already traced as part of registered cgroup /app", _cgroups.Register("/app/inner", Registrant.Operator).Describe());
        Assert.Equal(CgroupRegistrationStatus.NotFound, _cgroups.Register("/app/missing", Registrant.Operator).Status);
        var file = _cgroups.Register("/app/notes", Registrant.Operator);
        Assert.Equal(CgroupRegistrationStatus.Invalid, file.Status);
        Assert.Equal($"'/app/notes' is not a cgroup directory ({Path.Join(_mount.Path, "app", "notes")})", file.Describe());
        Assert.Single(_cgroupMap.Entries);
    }

    [Fact]
    public void A_refusal_forbids_the_registration_and_changes_nothing()
    {
        MakeCgroup("/app", 100);

        var registration = _cgroups.Register("/app", new Registrant(1000, false), (cgroup, owner) => $"no: {cgroup.Name} owned by {owner}");

        Assert.Equal(CgroupRegistrationStatus.Forbidden, registration.Status);
        Assert.Equal("no: /app owned by " + Owner("/app"), registration.Describe());
        Assert.Empty(_map.Entries);
        Assert.Empty(_cgroupMap.Entries);
        Assert.Empty(_tracing);
    }

    [Fact]
    public void A_non_administrator_s_registration_is_marked_for_the_kernel_with_its_uid()
    {
        MakeCgroup("/user", 100);
        _proc.Exit(100); // nothing to judge: only the marks are looked at here

        var cgroup = _cgroups.Register("/user", new Registrant(1000, false)).Cgroup!;

        Assert.Equal((cgroup.Registration, TrackedProcess.UnprivilegedFlag, 1000u), _cgroupMap.Entries[cgroup.Id]);
    }

    [Fact]
    public void Unregistering_untracks_its_processes_and_a_registered_cgroup_above_takes_them_over()
    {
        MakeCgroup("/pod");
        MakeCgroup("/pod/container", 100);
        var container = _cgroups.Register("/pod/container", Registrant.Operator).Cgroup!;
        var pod = _cgroups.Register("/pod", Registrant.Operator).Cgroup!;
        Assert.Equal(new Dictionary<int, int> { [100] = container.Registration }, _map.Entries);

        Assert.Same(container, _cgroups.Unregister(container.Id));

        Assert.Equal(new Dictionary<int, int> { [100] = pod.Registration }, _map.Entries);
        Assert.Equal([pod.Id], _cgroupMap.Entries.Keys);
        Assert.Null(_cgroups.Unregister(container.Id));
        Assert.Same(pod, _cgroups.Unregister(pod.Id));
        Assert.Empty(_map.Entries);
        Assert.False(_tracing[^1]);
        Assert.Empty(_saved[^1]);
    }

    [Fact]
    public void A_walk_unregisters_a_removed_cgroup_and_drops_members_that_exited()
    {
        MakeCgroup("/gone", 100);
        MakeCgroup("/kept", 200, 201);
        var gone = _cgroups.Register("/gone", Registrant.Operator).Cgroup!;
        var kept = _cgroups.Register("/kept", Registrant.Operator).Cgroup!;
        RemoveCgroup("/gone");
        _proc.Exit(201);
        File.WriteAllText(Path.Join(_mount.Path, "kept", "cgroup.procs"), "200\n");

        _registries.Feed.Walk();

        Assert.Equal([kept], _cgroups.Cgroups());
        Assert.Null(_cgroups.Find(gone.Id));
        Assert.Equal(new Dictionary<int, int> { [200] = kept.Registration }, _map.Entries);
        Assert.Equal([kept.Id], _cgroupMap.Entries.Keys);
        Assert.Equal(1, kept.ProcessCount);
    }

    [Fact]
    public void A_removal_the_kernel_reports_unregisters_the_cgroup_at_once_and_a_stale_report_changes_nothing()
    {
        MakeCgroup("/gone");
        MakeCgroup("/kept", 200);
        var gone = _cgroups.Register("/gone", Registrant.Operator).Cgroup!;
        var kept = _cgroups.Register("/kept", Registrant.Operator).Cgroup!;
        RemoveCgroup("/gone");

        _registries.Kernel.CgroupRemoved(gone.Registration);
        _registries.Kernel.CgroupRemoved(kept.Registration); // still there: not believed
        _registries.ReadReports();

        Assert.Equal([kept], _cgroups.Cgroups());
        Assert.Equal([kept.Id], _cgroupMap.Entries.Keys);
        Assert.Equal(new Dictionary<int, int> { [200] = kept.Registration }, _map.Entries);
        Assert.Equal([kept], _saved[^1]);
        Assert.True(_tracing[^1]);
    }

    [Fact]
    public void A_cgroup_created_again_at_a_registered_path_registers_at_once_replacing_the_removed_one()
    {
        MakeCgroup("/nginx.service", 100);
        var first = _cgroups.Register("/nginx.service", Registrant.Operator).Cgroup!;
        // systemd restarting the unit: the old cgroup goes (moved aside here, so its inode is not reused), a new one comes.
        Directory.Move(Path.Join(_mount.Path, "nginx.service"), Path.Join(_mount.Path, "old"));
        _proc.Exit(100);
        MakeCgroup("/nginx.service", 200);

        var second = _cgroups.Register("/nginx.service", Registrant.Operator);

        Assert.Equal(CgroupRegistrationStatus.Registered, second.Status);
        Assert.NotEqual(first.Id, second.Cgroup!.Id);
        Assert.Equal([second.Cgroup], _cgroups.Cgroups());
        Assert.Equal([second.Cgroup.Id], _cgroupMap.Entries.Keys);
        Assert.Equal(new Dictionary<int, int> { [200] = second.Cgroup.Registration }, _map.Entries);
    }

    [Fact]
    public void A_host_without_cgroup_v2_answers_every_registration_with_one_clear_line()
    {
        var cgroups = new TestRegistries(_proc.ProcFs, TracerPid, cgroupTracing: _tracing.Add).Cgroups;

        var registration = cgroups.Register("system.slice/nginx.service", Registrant.Operator);

        Assert.Equal(CgroupRegistrationStatus.Invalid, registration.Status);
        Assert.Equal("this host has no cgroup v2 hierarchy (no cgroup2 mount in /proc/self/mountinfo): cgroups can be traced on cgroup v2 (unified or hybrid) hosts only",
            registration.Describe());
        Assert.Null(cgroups.Find("system.slice/nginx.service"));
        Assert.Empty(_tracing);
    }

    [Fact]
    public void Restoring_registers_the_saved_cgroups_that_are_still_the_same_ones()
    {
        MakeCgroup("/kept", 100);
        MakeCgroup("/recreated");
        var keptId = Inode("/kept");
        var registeredAt = new DateTime(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc);

        _cgroups.Restore([
            new SavedCgroup("/kept", keptId, registeredAt, 0, true),
            new SavedCgroup("/recreated", Inode("/recreated") + 1, registeredAt, 0, true),
            new SavedCgroup("/removed", 12345, registeredAt, 0, true),
        ]);

        var restored = Assert.Single(_cgroups.Cgroups());
        Assert.Equal(("/kept", keptId, new Registrant(0, true), registeredAt),
            (restored.Name, restored.Id, restored.Registrant, restored.RegisteredAt.UtcDateTime));
        Assert.Equal(new Dictionary<int, int> { [100] = restored.Registration }, _map.Entries);
        Assert.Equal([restored.Id], _cgroupMap.Entries.Keys);
    }

    private static (CgroupRegistrationStatus, RegisteredCgroup?) Outcome(CgroupRegistration registration) => (registration.Status, registration.Cgroup);

    /// <summary>A cgroup directory listing these processes, which live in the fake /proc.</summary>
    /// <summary>The cgroup's directory is gone (here, with its cgroup.procs), as after its rmdir.</summary>
    private void RemoveCgroup(string name)
    {
        var directory = Path.Join(_mount.Path, name);
        File.Delete(Path.Join(directory, "cgroup.procs"));
        Directory.Delete(directory);
    }

    private void MakeCgroup(string name, params int[] pids)
    {
        var directory = Path.Join(_mount.Path, name);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Join(directory, "cgroup.procs"), string.Concat(pids.Select(p => $"{p}\n")));
        foreach (var pid in pids)
        {
            _proc.Add(pid);
        }
    }

    private ulong Inode(string name) =>
        Native.Interop.Libc.StatX(Native.Interop.Libc.AT_FDCWD, Path.Join(_mount.Path, name), 0, Native.Interop.Libc.STATX_INO, out var stat) == 0 ? stat.Ino : 0;

    private uint Owner(string name) =>
        Native.Interop.Libc.StatX(Native.Interop.Libc.AT_FDCWD, Path.Join(_mount.Path, name), 0, Native.Interop.Libc.STATX_UID, out var stat) == 0 ? stat.Uid : 0;
}
