using System.Globalization;
using WriteTracer.Tracking;

namespace WriteTracer.Tests.Tracking;

/// <summary>A fake /proc in a temporary directory: just the files <see cref="ProcFs"/> reads.</summary>
internal sealed class ProcFixture : IDisposable
{
    public ProcFixture(int pidMax = 32768)
    {
        Root = Directory.CreateTempSubdirectory("wt-proc-").FullName;
        Directory.CreateDirectory(Path.Combine(Root, "sys", "kernel"));
        File.WriteAllText(Path.Combine(Root, "sys", "kernel", "pid_max"), $"{pidMax}\n");
    }

    public string Root { get; }

    public ProcFs ProcFs => new(Root);

    /// <summary>
    /// Adds (or replaces) a single-threaded process; its parent lists it as a child. Its real,
    /// effective and saved uid are uid (default: the test's own, who owns the fixture's directories,
    /// so the process reads as dumpable).
    /// </summary>
    public void AddProcess(int pid, int parent, ulong startTime, string comm = "worker", char state = 'S', int tgid = 0, int? uid = null)
    {
        var dir = Path.Combine(Root, Number(pid));
        Directory.CreateDirectory(Path.Combine(dir, "task", Number(pid)));
        // Fields 3.. of stat: state, ppid, 15 fields we do not read (flags, field 9, among them), num_threads (20), 0, starttime (22).
        var filler = string.Join(' ', Enumerable.Repeat("0", 15));
        File.WriteAllText(Path.Combine(dir, "stat"), $"{pid} ({comm}) {state} {parent} {filler} 1 0 {startTime} 0 0\n");
        var uids = string.Join('\t', Enumerable.Repeat(uid ?? Registrant.Operator.Uid, 4));
        File.WriteAllText(Path.Combine(dir, "status"),
            $"Name:\t{comm}\nTgid:\t{(tgid == 0 ? pid : tgid)}\nPid:\t{pid}\nPPid:\t{parent}\nUid:\t{uids}\nCapEff:\t0000000000000000\nNSpid:\t{pid}\n");
        File.WriteAllText(Path.Combine(dir, "task", Number(pid), "children"), "");
        var parentChildren = Path.Combine(Root, Number(parent), "task", Number(parent), "children");
        if (File.Exists(parentChildren))
        {
            File.AppendAllText(parentChildren, $"{pid} ");
        }
    }

    public void Remove(int pid) => Directory.Delete(Path.Combine(Root, Number(pid)), recursive: true);

    public void Dispose() => Directory.Delete(Root, recursive: true);

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
