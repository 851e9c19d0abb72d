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
        Assert.Equal(new ProcessStat(100, "my worker (1)", 'S', 1, 555), stat);
        Assert.True(proc.ProcFs.IsAlive(100, out _));
    }

    [Fact]
    public void Lists_threads_from_the_task_directory()
    {
        using var proc = new FakeProc();
        proc.Add(100, threads: 4);
        proc.Add(200);

        Assert.Equal([100, 101, 102, 103], proc.ProcFs.Threads(100).Order());
        Assert.Equal(4, proc.ProcFs.ThreadCount(100));
        Assert.Equal(1, proc.ProcFs.ThreadCount(200));
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
        Assert.Equal(0, proc.ProcFs.ThreadCount(100));
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
