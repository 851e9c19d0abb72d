using System.Globalization;
using WriteTracer.Tracking;

namespace WriteTracer.Tests.Infrastructure;

/// <summary>
/// A /proc-shaped fixture directory: per process a stat file, task/TID directories and,
/// unless disabled (a kernel without CONFIG_PROC_CHILDREN), task/TID/children files
/// listing the children each thread forked. Mutations rewrite the files at once.
/// </summary>
internal sealed class FakeProc : IDisposable
{
    private readonly TempDirectory _directory = new("wt-proc-");
    private readonly Dictionary<int, Process> _processes = [];
    private readonly bool _childrenFiles;

    public FakeProc(bool childrenFiles = true) => _childrenFiles = childrenFiles;

    public string Root => _directory.Path;

    public ProcFs ProcFs => new(Root);

    /// <summary>
    /// Adds a process with thread ids pid, pid+1, … (callers space their pids apart).
    /// It appears in the children file of its parent's thread spawnedBy (default: the parent's main thread).
    /// </summary>
    public void Add(int pid, int parent = 1, int threads = 1, string? comm = null, ulong? startTime = null, int? spawnedBy = null)
    {
        var process = new Process(pid, parent, threads, comm ?? $"proc{pid}", startTime ?? (ulong)(1000 + pid), spawnedBy ?? parent);
        _processes[pid] = process;
        for (var i = 0; i < threads; i++)
        {
            Directory.CreateDirectory(TaskDirectory(pid, pid + i));
        }
        WriteStat(process);
        WriteChildren(pid);
        if (_processes.ContainsKey(parent))
        {
            WriteChildren(parent);
        }
    }

    /// <summary>
    /// The process is gone: its directory disappears, its parent no longer lists it and
    /// its children are re-parented to pid 1, as the kernel does with orphans.
    /// </summary>
    public void Exit(int pid)
    {
        var process = _processes[pid];
        _processes.Remove(pid);
        Directory.Delete(ProcessDirectory(pid), recursive: true);
        foreach (var orphan in _processes.Values.Where(c => c.Parent == pid).ToList())
        {
            WriteStat(_processes[orphan.Pid] = orphan with { Parent = 1, SpawnedBy = 1 });
        }
        foreach (var affected in new[] { process.Parent, 1 }.Distinct().Where(_processes.ContainsKey))
        {
            WriteChildren(affected);
        }
    }

    /// <summary>The process exited but was not reaped yet.</summary>
    public void Zombie(int pid) => WriteStat(_processes[pid] = _processes[pid] with { State = 'Z' });

    /// <summary>The process's main thread has begun to exit (PF_EXITING), before the kernel's exit hooks ran.</summary>
    public void Exiting(int pid) => WriteStat(_processes[pid] = _processes[pid] with { Flags = ExitingFlags });

    /// <summary>The process now has this many threads, ids pid, pid+1, …</summary>
    public void SetThreads(int pid, int threads)
    {
        var process = _processes[pid];
        for (var i = threads; i < process.Threads; i++)
        {
            Directory.Delete(TaskDirectory(pid, pid + i), recursive: true);
        }
        for (var i = process.Threads; i < threads; i++)
        {
            Directory.CreateDirectory(TaskDirectory(pid, pid + i));
        }
        WriteStat(_processes[pid] = process with { Threads = threads });
        WriteChildren(pid);
    }

    /// <summary>The pid now belongs to a new process (another start time), with no children.</summary>
    public void Reuse(int pid, ulong startTime, string comm = "reused")
    {
        Exit(pid);
        Add(pid, parent: 1, comm: comm, startTime: startTime);
    }

    /// <summary>The process holds the socket with this inode as fd (a link to socket:[INODE], as the kernel shows it).</summary>
    public void HoldSocket(int pid, int fd, ulong inode)
    {
        var fds = Path.Combine(ProcessDirectory(pid), "fd");
        Directory.CreateDirectory(fds);
        File.CreateSymbolicLink(Path.Combine(fds, fd.ToString(CultureInfo.InvariantCulture)), $"socket:[{inode}]");
    }

    /// <summary>/proc/loadavg naming lastPid as the pid the kernel handed out last.</summary>
    public void LastPid(int lastPid) => File.WriteAllText(Path.Combine(Root, "loadavg"), $"0.00 0.01 0.05 1/80 {lastPid}\n");

    /// <summary>Replaces a process's stat file with arbitrary text.</summary>
    public void WriteRawStat(int pid, string text)
    {
        Directory.CreateDirectory(ProcessDirectory(pid));
        File.WriteAllText(Path.Combine(ProcessDirectory(pid), "stat"), text);
    }

    /// <summary>A stat line shaped like the kernel's (52 fields; field 22 is the start time).</summary>
    public static string StatLine(int pid, string comm, char state, int parent, int threads, ulong startTime, uint flags = DefaultFlags) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{pid} ({comm}) {state} {parent} {pid} {pid} 0 -1 {flags} 99 0 1 0 0 0 0 0 20 0 {threads} 0 {startTime} {StatTail}\n");

    /// <summary>PF_RANDOMIZE, as most processes show; with PF_EXITING for an exiting one.</summary>
    private const uint DefaultFlags = 0x400000, ExitingFlags = DefaultFlags | 0x4;

    /// <summary>Fields 23 to 52 of a real stat line.</summary>
    private const string StatTail =
        "3133440 359 18446744073709551615 94836315893760 94836315913641 140733315108784 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 " +
        "94836315929648 94836315931264 94836895522816 140733315115492 140733315115512 140733315115512 140733315117035 0";

    public void Dispose() => _directory.Dispose();

    private void WriteStat(Process p) =>
        File.WriteAllText(Path.Combine(ProcessDirectory(p.Pid), "stat"), StatLine(p.Pid, p.Comm, p.State, p.Parent, p.Threads, p.StartTime, p.Flags));

    private void WriteChildren(int pid)
    {
        if (!_childrenFiles)
        {
            return;
        }
        var process = _processes[pid];
        for (var tid = pid; tid < pid + process.Threads; tid++)
        {
            var children = _processes.Values.Where(c => c.Parent == pid && c.SpawnedBy == tid).Select(c => c.Pid).Order();
            // The kernel's format: each pid followed by a space.
            File.WriteAllText(Path.Combine(TaskDirectory(pid, tid), "children"), string.Concat(children.Select(c => $"{c} ")));
        }
    }

    private string ProcessDirectory(int pid) => Path.Combine(Root, pid.ToString(CultureInfo.InvariantCulture));

    private string TaskDirectory(int pid, int tid) => Path.Combine(ProcessDirectory(pid), "task", tid.ToString(CultureInfo.InvariantCulture));

    private sealed record Process(int Pid, int Parent, int Threads, string Comm, ulong StartTime, int SpawnedBy, char State = 'S',
        uint Flags = DefaultFlags);
}
