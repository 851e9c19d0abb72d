using System.Globalization;
using WriteTracer.Native;
using WriteTracer.Tracking;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>
/// A cgroup v2 directory this test creates under the v2 mount (a unique name), and
/// removes on dispose whatever happened: the processes still in it or below it, all
/// the test's own, are killed (cgroup.kill), then its directories go, deepest first.
/// No other cgroup is ever written.
/// </summary>
internal sealed class TestCgroup : IDisposable
{
    private static readonly Lazy<string> Mount = new(() =>
        CgroupHierarchy.FindMountPoint(File.ReadAllText("/proc/self/mountinfo"))
        ?? throw new InvalidOperationException("this host has no cgroup v2 mount"));

    private readonly TestCgroup? _parent;
    private readonly List<TestCgroup> _children = [];

    private TestCgroup(string directory, TestCgroup? parent)
    {
        Directory.CreateDirectory(directory);
        DirectoryPath = directory;
        _parent = parent;
    }

    public static string MountPoint => Mount.Value;

    /// <summary>A new top-level cgroup: /wt-test-NAME-…, unique.</summary>
    public static TestCgroup Create(string name) =>
        new(Path.Join(MountPoint, $"wt-test-{name}-{Environment.ProcessId}-{Guid.NewGuid():N}"[..48]), null);

    /// <summary>The cgroup's directory under the mount.</summary>
    public string DirectoryPath { get; }

    /// <summary>Relative to the mount, as events show it: "/wt-test-…".</summary>
    public string Name => DirectoryPath[MountPoint.TrimEnd('/').Length..];

    /// <summary>The kernel's cgroup id: its directory's inode number.</summary>
    public ulong Id => Interop.Libc.StatX(Interop.Libc.AT_FDCWD, DirectoryPath, 0, Interop.Libc.STATX_INO, out var stat) == 0
        ? stat.Ino
        : throw new IOException($"statx {DirectoryPath} failed");

    /// <summary>A nested cgroup, removed with this one.</summary>
    public TestCgroup Child(string name)
    {
        var child = new TestCgroup(Path.Join(DirectoryPath, name), this);
        _children.Add(child);
        return child;
    }

    /// <summary>Delegates the cgroup to uid, as systemd delegates user@UID.service: the directory and the files that move processes.</summary>
    public async Task DelegateAsync(int uid)
    {
        var (exitCode, _, stderr) = await Shell.ExecAsync("chown", [$"{uid}:{uid}", DirectoryPath,
            .. new[] { "cgroup.procs", "cgroup.threads", "cgroup.subtree_control" }.Select(f => Path.Join(DirectoryPath, f))],
            TimeSpan.FromSeconds(30));
        Assert.True(exitCode == 0, stderr);
    }

    /// <summary>Moves a process (all its threads) here: cgroup.procs, as systemd and runc do.</summary>
    public void Move(int pid) => File.WriteAllText(Path.Join(DirectoryPath, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));

    public IReadOnlyList<int> Processes() =>
        [.. File.ReadAllLines(Path.Join(DirectoryPath, "cgroup.procs")).Select(l => int.Parse(l, CultureInfo.InvariantCulture))];

    /// <summary>Removes the directory now (it must hold no process): what systemd does when a unit stops.</summary>
    public void Remove()
    {
        foreach (var child in _children)
        {
            child.Remove();
        }
        if (Directory.Exists(DirectoryPath))
        {
            Directory.Delete(DirectoryPath);
        }
    }

    public void Dispose()
    {
        if (!Directory.Exists(DirectoryPath))
        {
            return;
        }
        if (_parent is null)
        {
            File.WriteAllText(Path.Join(DirectoryPath, "cgroup.kill"), "1");
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (File.ReadAllText(Path.Join(DirectoryPath, "cgroup.events")).Contains("populated 1", StringComparison.Ordinal)
                && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
            }
        }
        Remove();
    }
}
