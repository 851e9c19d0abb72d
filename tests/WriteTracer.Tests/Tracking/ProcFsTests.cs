using WriteTracer.Tests.Infrastructure;
using WriteTracer.Tracking;

namespace WriteTracer.Tests.Tracking;

public class ProcFsTests
{
    [Fact]
    public void Reads_a_process_stat()
    {
        using var proc = new FakeProc();
        proc.Add(100, parent: 1, threads: 2, comm: "my worker (1)", startTime: 555);

        Assert.True(proc.ProcFs.TryReadStat(100, out var stat));
        Assert.Equal(new ProcessStat(100, "my worker (1)", 'S', 1, 555, Threads: 2, Flags: 4194304), stat);
        Assert.True(proc.ProcFs.IsAlive(100, out _));
    }

    [Fact]
    public void Lists_threads_from_the_task_directory()
    {
        using var proc = new FakeProc();
        proc.Add(100, threads: 4);
        proc.Add(200);

        Assert.Equal([100, 101, 102, 103], proc.ProcFs.Threads(100).Order());
        Assert.Equal([200], proc.ProcFs.Threads(200));
    }

    [Fact]
    public void Children_are_read_from_every_threads_children_file()
    {
        using var proc = new FakeProc();
        proc.Add(100, threads: 3);
        proc.Add(200, parent: 100);
        proc.Add(300, parent: 100, spawnedBy: 101);
        proc.Add(400, parent: 100, spawnedBy: 102);
        proc.Add(500, parent: 300);

        Assert.Equal([200, 300, 400], proc.ProcFs.Children(100).Order());
        Assert.Equal([500], proc.ProcFs.Children(300));
        Assert.Empty(proc.ProcFs.Children(500));
    }

    [Fact]
    public void A_single_threaded_process_has_its_main_threads_children_file_read_alone()
    {
        using var proc = new FakeProc();
        proc.Add(100, threads: 2);
        proc.Add(200, parent: 100);
        proc.Add(300, parent: 100, spawnedBy: 101);
        var children = new List<int> { 7 };

        // Told it has one thread, the walker reads task/100/children only: what the list holds stays.
        proc.ProcFs.AddChildren(100, threads: 1, children);
        Assert.Equal([7, 200], children);
        children.Clear();
        proc.ProcFs.AddChildren(100, threads: 2, children);
        Assert.Equal([200, 300], children.Order());
    }

    [Fact]
    public void A_children_file_longer_than_a_page_is_read_whole()
    {
        using var proc = new FakeProc();
        proc.Add(100);
        var expected = Enumerable.Range(0, 1500).Select(i => 10_000 + i * 10).ToList();
        foreach (var child in expected)
        {
            proc.Add(child, parent: 100);
        }

        Assert.Equal(expected, proc.ProcFs.Children(100).Order());
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(3, true)] // its other threads live on: only the main thread is leaving
    public void A_lone_thread_that_began_to_exit_is_not_alive(int threads, bool alive)
    {
        using var proc = new FakeProc();
        proc.Add(100, threads: threads);
        proc.Exiting(100);

        Assert.True(proc.ProcFs.TryReadStat(100, out var stat));
        Assert.True(stat.IsExiting);
        Assert.Equal(alive, proc.ProcFs.IsAlive(100, out _));
    }

    [Fact]
    public void Without_children_files_children_are_found_by_scanning_parents()
    {
        using var proc = new FakeProc(childrenFiles: false);
        proc.Add(100, threads: 3);
        proc.Add(200, parent: 100);
        proc.Add(300, parent: 100, spawnedBy: 101);
        proc.Add(500, parent: 300);
        proc.Add(600, parent: 1);

        Assert.Equal([200, 300], proc.ProcFs.Children(100).Order());
        Assert.Equal([500], proc.ProcFs.Children(300));
        Assert.Empty(proc.ProcFs.Children(500));
    }

    [Theory]
    [InlineData(null, 300)]  // no loadavg: the highest pid first
    [InlineData(150, 100)]   // pids wrapped after 300: 100 is newer
    [InlineData(400, 300)]
    public void A_socket_is_looked_for_from_the_newest_process_down(int? lastPid, int holder)
    {
        using var proc = new FakeProc();
        proc.Add(100);
        proc.Add(200);
        proc.Add(300);
        // A socket shared across a fork: whichever holder is found first answers.
        proc.HoldSocket(100, 3, 4711);
        proc.HoldSocket(300, 5, 4711);
        proc.HoldSocket(200, 3, 999);
        if (lastPid is { } last)
        {
            proc.LastPid(last);
        }

        Assert.Equal(holder, proc.ProcFs.FindSocketHolder(4711));
        Assert.Equal(200, proc.ProcFs.FindSocketHolder(999));
        Assert.Null(proc.ProcFs.FindSocketHolder(1));
    }

    [Fact]
    public void A_zombie_exists_but_is_not_alive()
    {
        using var proc = new FakeProc();
        proc.Add(100);
        proc.Zombie(100);

        Assert.True(proc.ProcFs.TryReadStat(100, out var stat));
        Assert.True(stat.IsZombie);
        Assert.False(proc.ProcFs.IsAlive(100, out _));
    }

    [Fact]
    public void A_vanished_process_has_no_stat_threads_or_children()
    {
        using var proc = new FakeProc();
        proc.Add(100, threads: 2);
        proc.Add(200, parent: 100);
        proc.Exit(100);

        Assert.False(proc.ProcFs.TryReadStat(100, out _));
        Assert.False(proc.ProcFs.IsAlive(100, out _));
        Assert.Empty(proc.ProcFs.Threads(100));
        Assert.Empty(proc.ProcFs.Children(100));
        Assert.Empty(proc.ProcFs.Children(999));
    }

    [Fact]
    public void A_vanished_process_has_no_children_without_children_files_either()
    {
        using var proc = new FakeProc(childrenFiles: false);
        proc.Add(100);
        proc.Add(200, parent: 100);
        proc.Exit(100);

        // Its orphan now belongs to pid 1; a scan for the dead parent finds nothing.
        Assert.Empty(proc.ProcFs.Children(100));
    }

    [Fact]
    public void An_unreadable_stat_is_not_a_process()
    {
        using var proc = new FakeProc();
        proc.WriteRawStat(100, "100 (half");

        Assert.False(proc.ProcFs.TryReadStat(100, out _));
        Assert.False(proc.ProcFs.IsAlive(100, out _));
    }

    [Fact]
    public void A_reused_pid_shows_its_new_start_time()
    {
        using var proc = new FakeProc();
        proc.Add(100, startTime: 1000);
        proc.Add(200, parent: 100);

        proc.Reuse(100, startTime: 9000);

        Assert.True(proc.ProcFs.IsAlive(100, out var stat));
        Assert.Equal(9000UL, stat.StartTime);
        Assert.Empty(proc.ProcFs.Children(100));
    }

    [Fact]
    public void Non_numeric_entries_are_ignored()
    {
        using var proc = new FakeProc(childrenFiles: false);
        proc.Add(100);
        proc.Add(200, parent: 100);
        Directory.CreateDirectory(Path.Combine(proc.Root, "self"));
        Directory.CreateDirectory(Path.Combine(proc.Root, "sys"));
        Directory.CreateDirectory(Path.Combine(proc.Root, "100", "task", "not-a-tid"));

        Assert.Equal([200], proc.ProcFs.Children(100));
        Assert.Equal([100], proc.ProcFs.Threads(100));
    }
}
