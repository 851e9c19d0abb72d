using System.Runtime.Versioning;
using WriteTracer.Tests.Infrastructure;
using WriteTracer.Tracking;

namespace WriteTracer.Tests.Tracking;

/// <summary>The state file's format: what is saved loads back; what cannot be trusted is set aside.</summary>
[SupportedOSPlatform("linux")]
public sealed class RegistryFileTests : IDisposable
{
    private readonly TempDirectory _directory = new("wt-registry-");

    private string PathOf(string name) => Path.Combine(_directory.Path, name);

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Saved_roots_load_back_with_their_identity_and_registrant_from_an_owner_only_file()
    {
        var file = new RegistryFile(PathOf("registry.json"));
        var registeredAt = new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);
        RootProcess[] roots =
        [
            new(100, 12345, "bash", registeredAt, new Registrant(1000, false)),
            new(200, 67890, "job with spaces", registeredAt.AddSeconds(1), new Registrant(0, true)),
        ];

        file.Save(roots);
        var loaded = file.Load();

        Assert.Equal(
            roots.Select(r => (r.Pid, r.StartTime, r.Comm, r.RegisteredAt, r.Registrant)),
            loaded.Roots.Select(r => (r.Pid, r.StartTime, r.Comm, r.RegisteredAt, r.Registrant)));
        Assert.Empty(loaded.Cgroups);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file.Path));
        Assert.False(File.Exists(file.Path + ".tmp"));
    }

    [Fact]
    public void A_missing_file_is_an_empty_registry()
    {
        Assert.Equal(SavedState.Empty, new RegistryFile(PathOf("absent.json")).Load());
    }

    [Theory]
    [InlineData("not json at all", "it is not a registry this tracer wrote (")]
    [InlineData("{\"version\": 1}", "it is not a registry this tracer wrote (")]
    [InlineData("{\"version\": 3, \"roots\": []}", "it was written by a newer write-tracer (format 3; this one reads 1)")]
    [InlineData("{\"version\": 1, \"roots\": [{\"pid\": -5, \"start_time\": 1, \"comm\": \"x\", \"registered_at\": \"2026-12-01T00:00:00Z\", \"registered_by_uid\": 0, \"administrator\": true}]}",
        "it holds an invalid entry (pid -5)")]
    public void A_file_it_cannot_trust_is_refused_with_the_reason(string content, string reason)
    {
        Assert.StartsWith(reason, RegistryFile.Parse(System.Text.Encoding.UTF8.GetBytes(content), out var state));
        Assert.Equal(SavedState.Empty, state);
    }

    [Fact]
    public void A_corrupt_file_is_kept_aside_and_loading_starts_empty()
    {
        var path = PathOf("registry.json");
        File.WriteAllText(path, "{ truncated");

        Assert.Equal(SavedState.Empty, new RegistryFile(path).Load());

        Assert.False(File.Exists(path));
        Assert.Equal("{ truncated", File.ReadAllText(path + ".bad"));
    }

    [Fact]
    public void Cgroups_and_roots_saved_by_either_registry_are_read_back_together()
    {
        var file = new RegistryFile(PathOf("registry.json"));
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
