using WriteTracer.Tests.Infrastructure;
using WriteTracer.Tracking;

namespace WriteTracer.Tests.Tracking;

/// <summary>The state file's cgroups: saved with the roots, read back, optional in older files.</summary>
public sealed class RegistryFileCgroupTests : IDisposable
{
    private readonly TempDirectory _dir = new("wt-state-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Cgroups_and_roots_saved_by_either_registry_are_read_back_together()
    {
        var file = new RegistryFile(_dir.File("registry.json"));
        var registeredAt = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
        var root = new RootProcess(100, 1234, "server", registeredAt, Registrant.Operator);
        var cgroup = new RegisteredCgroup(new CgroupPath("/user.slice/user-1000.slice", "/sys/fs/cgroup/user.slice/user-1000.slice"), 77,
            CgroupNames.FirstId, new Registrant(1000, false), registeredAt);

        file.Save([root]);
        file.SaveCgroups([cgroup]);
        var state = file.Load();

        Assert.Equal((100, 1234UL), (Assert.Single(state.Roots).Pid, state.Roots[0].StartTime));
        Assert.Equal(new SavedCgroup("/user.slice/user-1000.slice", 77, registeredAt.UtcDateTime, 1000, false), Assert.Single(state.Cgroups));
    }

    [Fact]
    public void A_file_without_cgroups_has_none()
    {
        Assert.Null(RegistryFile.Parse("""{"version": 1, "roots": []}"""u8.ToArray(), out var state));
        Assert.Empty(state.Cgroups);
    }

    [Fact]
    public void A_cgroup_entry_without_a_path_makes_the_file_invalid()
    {
        Assert.Equal("it holds an invalid cgroup entry (id 7)", RegistryFile.Parse(
            """{"version": 1, "roots": [], "cgroups": [{"path": null, "id": 7, "registered_at": "2026-11-30T12:00:00Z", "registered_by_uid": 0, "administrator": true}]}"""u8.ToArray(),
            out _));
    }
}
