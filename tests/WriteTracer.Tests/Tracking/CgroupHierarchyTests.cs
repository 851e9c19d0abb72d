using WriteTracer.Tests.Infrastructure;
using WriteTracer.Tracking;

namespace WriteTracer.Tests.Tracking;

public sealed class CgroupHierarchyTests : IDisposable
{
    private readonly TempDirectory _mount = new("wt-cgroup2-");
    private readonly CgroupHierarchy _hierarchy;

    public CgroupHierarchyTests() => _hierarchy = new CgroupHierarchy(_mount.Path);

    public void Dispose() => _mount.Dispose();

    [Fact]
    public void The_mount_point_is_the_cgroup2_line_of_mountinfo_on_hybrid_and_unified_hosts()
    {
        const string hybrid = """
            31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
            32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
            41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
            """;
        const string unified = "29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";

        Assert.Equal("/sys/fs/cgroup/unified", CgroupHierarchy.FindMountPoint(hybrid));
        Assert.Equal("/sys/fs/cgroup", CgroupHierarchy.FindMountPoint(unified));
        Assert.Equal("/mnt/my cgroups", CgroupHierarchy.FindMountPoint(@"50 23 0:40 / /mnt/my\040cgroups rw - cgroup2 none rw"));
    }

    [Fact]
    public void A_host_with_cgroup_v1_only_has_no_mount_point()
    {
        Assert.Null(CgroupHierarchy.FindMountPoint("""
            31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
            40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
            """));
    }

    [Theory]
    [InlineData("system.slice/nginx.service")]
    [InlineData("/system.slice/nginx.service")]
    [InlineData("system.slice//nginx.service/")]
    [InlineData("system.slice/x/../nginx.service")]
    public void A_path_relative_to_the_mount_with_or_without_its_leading_slash_names_the_cgroup(string path)
    {
        Assert.True(_hierarchy.TryResolve(path, out var cgroup, out var error), error);
        Assert.Equal("/system.slice/nginx.service", cgroup.Name);
        Assert.Equal(Path.Join(_mount.Path, "system.slice", "nginx.service"), cgroup.Directory);
    }

    [Fact]
    public void An_absolute_path_under_the_mount_names_the_cgroup()
    {
        Assert.True(_hierarchy.TryResolve(Path.Join(_mount.Path, "kubepods.slice", "pod1"), out var cgroup, out var error), error);
        Assert.Equal("/kubepods.slice/pod1", cgroup.Name);
    }

    [Theory]
    [InlineData("../..", "'../..' leads outside the cgroup v2 hierarchy mounted at {mount}")]
    [InlineData("a/../../b", "'a/../../b' leads outside the cgroup v2 hierarchy mounted at {mount}")]
    [InlineData(".", "the root cgroup holds every process of the host: register a cgroup below it")]
    [InlineData("/", "'/' is not a cgroup v2 directory (the cgroup v2 hierarchy is mounted at {mount}; v1 hierarchies cannot be traced)")]
    [InlineData("/proc", "'/proc' is not a cgroup v2 directory (the cgroup v2 hierarchy is mounted at {mount}; v1 hierarchies cannot be traced)")]
    [InlineData("a\0b", "the cgroup path is empty or holds a NUL byte")]
    public void A_path_that_names_nothing_on_the_hierarchy_is_refused_saying_why(string path, string expected)
    {
        Assert.False(_hierarchy.TryResolve(path, out _, out var error));
        Assert.Equal(expected.Replace("{mount}", _mount.Path, StringComparison.Ordinal), error);
    }

    [Fact]
    public void A_name_longer_than_events_carry_is_refused()
    {
        Assert.False(_hierarchy.TryResolve(new string('a', CgroupNames.MaxNameBytes), out _, out var error));
        Assert.Equal($"the cgroup path is longer than {CgroupNames.MaxNameBytes} bytes", error);
    }

    [Fact]
    public void A_cgroup_is_a_directory_with_cgroup_procs_and_its_id_is_the_directory_inode()
    {
        var cgroup = MakeCgroup("app.service", "42\n");
        Directory.CreateDirectory(Path.Join(_mount.Path, "plain"));
        Assert.True(_hierarchy.TryResolve("plain", out var plain, out _));
        Assert.True(_hierarchy.TryResolve("missing", out var missing, out _));

        Assert.True(CgroupHierarchy.TryStat(cgroup, out var id, out _, out var exists));
        Assert.True(exists);
        Assert.Equal(Inode(cgroup.Directory), id);
        Assert.False(CgroupHierarchy.TryStat(plain, out _, out _, out exists));
        Assert.True(exists);
        Assert.False(CgroupHierarchy.TryStat(missing, out _, out _, out exists));
        Assert.False(exists);
    }

    [Fact]
    public void The_processes_of_a_cgroup_are_those_of_every_cgroup_in_its_subtree()
    {
        var top = MakeCgroup("pod", "10\n11\n");
        MakeCgroup("pod/container-a", "20\n");
        MakeCgroup("pod/container-b", "");
        MakeCgroup("pod/container-b/init", "30\n31\n");
        MakeCgroup("other", "99\n");

        Assert.Equal([10, 11, 20, 30, 31], CgroupHierarchy.Processes(top).Order());
    }

    private CgroupPath MakeCgroup(string relative, string procs)
    {
        var directory = Path.Join(_mount.Path, relative);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Join(directory, "cgroup.procs"), procs);
        Assert.True(_hierarchy.TryResolve(relative, out var cgroup, out var error), error);
        return cgroup;
    }

    private static ulong Inode(string path) =>
        Native.Interop.Libc.StatX(Native.Interop.Libc.AT_FDCWD, path, 0, Native.Interop.Libc.STATX_INO, out var stat) == 0 ? stat.Ino : 0;
}
