using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd;

/// <summary>
/// --lifecycle: the exec (argv) and exit (code or signal) of every traced process are events, in
/// order with its writes, in JSON, text and Loki, never in raw; without the option nothing changes.
/// </summary>
public sealed partial class LifecycleEventTests : IDisposable
{
    private const int CaptureBytes = 256;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private static readonly string Python = "/usr/bin/python3";
    private static readonly string Workload = Path.Combine(Repository.Root, "tests", "WriteTracer.EndToEnd", "Workloads", "lifecycle.py");
    /// <summary>Workloads/lifecycle.py's LONG_ARGUMENT: longer than the capture.</summary>
    private static readonly string LongArgument = "long-" + string.Concat(Enumerable.Repeat("0123456789", 60));
    /// <summary>The workload's children's working directory: where the one that aborts may dump core.</summary>
    private readonly string _dir = Directory.CreateTempSubdirectory("wt-lifecycle-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [RootFact]
    public async Task Every_exit_is_the_status_wait_reports_and_every_exec_its_argv_in_order_with_the_writes()
    {
        string[] command = [Python, "-B", "-I", "-S", Workload, _dir];
        await using var tracer = TracerProcess.Start(["--lifecycle", "--capture-bytes", $"{CaptureBytes}", "--", .. command]);
        Assert.Equal(9, await tracer.WaitForExitAsync(Timeout));

        var events = tracer.Events;
        var root = events[0].Int("pid");
        AssertExec(events[0], command);
        Assert.Equal(("exit", root, 9), (events[^1].Kind(), events[^1].Int("pid"), events[^1].Int("code")));
        // The parent's "status PID STATUS" lines: every child, in order, and what wait(2) said of it.
        var waited = events.Where(e => e.Int("pid") == root && e.Kind() == "write")
            .Select(e => StatusLine().Match(e.GetProperty("data").GetString()!))
            .Select(m => (Pid: int.Parse(m.Groups[1].Value), Status: int.Parse(m.Groups[2].Value))).ToList();
        Assert.Equal(10, waited.Count);
        foreach (var (pid, status) in waited)
        {
            var exit = Assert.Single(events, e => e.Int("pid") == pid && e.Kind() == "exit");
            Assert.Equal(status, WaitStatus(exit));
            Assert.Equal(root, exit.Int("root_pid"));
        }
        // What each child did (Workloads/lifecycle.py), as wait(2) saw it.
        var statuses = waited.Select(w => w.Status).ToList();
        Assert.Equal(4 << 8, statuses[0]);
        Assert.Equal(9, statuses[1]);
        Assert.Equal(6, statuses[2] & 0x7f); // abort(): SIGABRT, with 0x80 where the system let it dump core
        Assert.Equal([5 << 8, 7 << 8, 3 << 8, 0, 0, 2 << 8], [statuses[3], statuses[5], statuses[6], statuses[7], statuses[8], statuses[9]]);
        Assert.Equal(6 << 8, statuses[4]); // the leader exited first with 0: the group's status is its last thread's
        var tids = events.Where(e => e.Int("pid") == waited[4].Pid).Select(e => e.Int("tid")).Distinct();
        Assert.NotEqual(waited[4].Pid, Assert.Single(tids)); // the write and the exit come from the thread that outlived the leader
        // The children that exec'd: their exec before their writes and exit, with the argv the kernel saw.
        AssertExec(ExecOf(events, waited[6].Pid), ["sh", "-c", "echo exec; exit 3"]);
        Assert.Equal(["exec", "write", "exit"], events.Where(e => e.Int("pid") == waited[6].Pid).Select(e => e.Kind()));
        var binary = ExecOf(events, waited[7].Pid);
        Assert.False(binary.TryGetProperty("argv", out _));
        Assert.Equal([.. new[] { "sh", "-c", "exit 0" }.Select(Encoding.UTF8.GetBytes), [.. "caf"u8, 0xE9], [0xFF, 0xFE]],
            binary.GetProperty("argv_b64").EnumerateArray().Select(a => Convert.FromBase64String(a.GetString()!)));
        AssertExec(ExecOf(events, waited[8].Pid), ["sh", "-c", "exit 0", LongArgument]);
        var fromThread = ExecOf(events, waited[9].Pid);
        AssertExec(fromThread, ["sh", "-c", "exit 2"]);
        Assert.Equal(waited[9].Pid, fromThread.Int("tid")); // the thread that exec'd took the process's id
        // Exactly one exec per exec and one exit per process.
        Assert.Equal(5, events.Count(e => e.Kind() == "exec"));
        Assert.Equal(11, events.Count(e => e.Kind() == "exit"));
        AssertOrderedWithWrites(events);
        // A child's exit comes before the parent's line about it: wait(2) returned after it.
        foreach (var (pid, _) in waited)
        {
            var exit = IndexOf(events, e => e.Int("pid") == pid && e.Kind() == "exit");
            Assert.True(exit < IndexOf(events, e => e.Int("pid") == root && e.TryGetProperty("data", out var d) && d.GetString()!.StartsWith($"status {pid} ")));
        }
        Assert.Matches($@"captured {events.Count(e => e.Kind() == "write")} writes \(\d+ bytes\), 5 execs, 11 exits; dropped: kernel 0, stdout 0;", tracer.Stderr);
    }

    [RootFact]
    public async Task A_registered_root_s_exit_comes_after_its_writes_and_its_short_lived_children_s()
    {
        const int children = 3, lines = 4;
        using var writer = WriterProcess.StartHeld("-n", $"{lines}", "-c", $"{children}", "-e", "7");
        await using var tracer = TracerProcess.Start("--lifecycle", "-p", $"{writer.Pid}");
        await tracer.WaitUntilTracingAsync();
        writer.Release();
        Assert.Equal(7, await writer.WaitForExitAsync(Timeout));
        // Without a REST API the tracer stops by itself once its root has exited.
        Assert.Equal(0, await tracer.WaitForExitAsync(Timeout));

        var events = tracer.Events;
        var exits = events.Where(e => e.Kind() == "exit").ToList();
        Assert.Equal(children + 1, exits.Count);
        Assert.Equal((writer.Pid, 7), (exits[^1].Int("pid"), exits[^1].Int("code")));
        Assert.Equal("exit", events[^1].Kind());
        var childPids = exits.SkipLast(1).Select(e => e.Int("pid")).ToList();
        Assert.Equal(children, childPids.Distinct().Count());
        Assert.All(exits.SkipLast(1), e => Assert.Equal(0, e.Int("code")));
        Assert.All(events, e => Assert.Equal(writer.Pid, e.Int("root_pid")));
        Assert.DoesNotContain(events, e => e.Kind() == "exec"); // registered after its exec; the children fork without one
        foreach (var child in childPids)
        {
            Assert.Equal(lines, events.Count(e => e.Int("pid") == child && e.Kind() == "write" && e.Int("fd") == 1));
        }
        AssertOrderedWithWrites(events);
        var summary = ExitSummary.Parse(tracer.Stderr);
        Assert.Equal(((long)events.Count(e => e.Kind() == "write"), 0L, children + 1L), (summary.Captured, summary.Execs, summary.Exits));
        Assert.Equal(new Dictionary<string, long> { ["kernel"] = 0, ["stdout"] = 0 }, summary.Dropped);
    }

    [RootFact]
    public async Task A_cgroup_member_s_exec_and_exit_name_its_cgroup_as_its_writes_do()
    {
        using var cgroup = TestCgroup.Create("lifecycle");
        using var shell = WriterProcess.StartHeldProgram("/bin/sh", ["-c", "read _; /bin/echo member > /dev/null; exit 4"]);
        cgroup.Move(shell.Pid);
        await using var tracer = TracerProcess.Start("--lifecycle", "--cgroup", cgroup.Name);
        await tracer.WaitUntilTracingAsync();
        shell.Release();
        Assert.Equal(4, await shell.WaitForExitAsync(Timeout));
        await tracer.WaitForEventsAsync(e => e.Kind() == "exit" && e.Int("pid") == shell.Pid, 1, Timeout);
        Assert.Equal(0, await tracer.StopAsync());

        var events = tracer.Events;
        Assert.Equal(["exec", "write", "exit", "exit"], events.Select(e => e.Kind()));
        AssertExec(events[0], ["/bin/echo", "member"]);
        Assert.Equal((shell.Pid, 4), (events[^1].Int("pid"), events[^1].Int("code")));
        Assert.All(events, e => Assert.Equal(cgroup.Name, e.GetProperty("cgroup").GetString()));
        Assert.All(events, e => Assert.False(e.TryGetProperty("root_pid", out _)));
    }

    [RootFact]
    public async Task In_text_an_exec_is_an_execve_line_and_an_exit_strace_s_line()
    {
        const string script = "exec > /dev/null; echo hi; sh -c 'kill -KILL $$'; echo 'caf\\0351'; exit 3";
        await using var tracer = TracerProcess.Start("--lifecycle", "--format", "text", "-f", "1", "--", "/bin/sh", "-c", script);
        Assert.Equal(3, await tracer.WaitForExitAsync(Timeout));

        var lines = tracer.StdoutLines.Select(WithoutTime).ToList();
        var root = Regex.Match(lines[0], @"^sh\[(\d+)/").Groups[1].Value;
        var child = Regex.Match(lines[2], @"^sh\[(\d+)/").Groups[1].Value;
        Assert.Equal(
        [
            $$"""sh[{{root}}/{{root}}] execve ["/bin/sh", "-c", "exec > /dev/null; echo hi; sh -c 'kill -KILL $$'; echo 'caf\\0351'; exit 3"]""",
            $"sh[{root}/{root}] fd=1 3 \"hi\\n\"",
            $$"""sh[{{child}}/{{child}}] root={{root}} execve ["sh", "-c", "kill -KILL $$"]""",
            $"sh[{child}/{child}] root={root} +++ killed by SIGKILL +++",
            $"sh[{root}/{root}] fd=1 5 \"caf\\xe9\\n\"",
            $"sh[{root}/{root}] +++ exited with 3 +++",
        ], lines);
    }

    [RootFact]
    public async Task Raw_output_is_only_the_written_bytes()
    {
        await using var tracer = TracerProcess.Start("--lifecycle", "--format", "raw", "-f", "1",
            "--", "/bin/sh", "-c", "exec > /dev/null; echo one; sh -c 'echo two; exit 4'; exit 5");
        Assert.Equal(5, await tracer.WaitForExitAsync(Timeout));

        Assert.Equal(["one", "two"], tracer.StdoutLines);
        Assert.Contains("captured 2 writes (8 bytes), 2 execs, 2 exits; dropped: kernel 0, stdout 0;", tracer.Stderr);
    }

    [RootFact]
    public async Task Loki_gets_the_same_json_lines_as_stdout_in_order_in_the_one_stream()
    {
        await using var loki = await LokiReceiver.StartAsync();
        await using var tracer = TracerProcess.Start("--lifecycle", "-l", loki.PushUrl,
            "--", "/bin/sh", "-c", "exec > /dev/null; echo one; sh -c 'echo two; exit 4'; exit 5");
        Assert.Equal(5, await tracer.WaitForExitAsync(Timeout));

        var stdout = tracer.StdoutLines;
        Assert.Equal(["exec", "write", "exec", "write", "exit", "exit"], tracer.Events.Select(e => e.Kind()));
        Assert.Equal(stdout, loki.Entries.Select(e => e.Line));
        Assert.Single(loki.Entries.Select(e => string.Join(",", e.Labels.OrderBy(l => l.Key))).Distinct());
        var root = tracer.Events[0].Int("pid");
        Assert.All(loki.Entries, e => Assert.Equal($"{root}", e.Metadata["root_pid"]));
    }

    /// <summary>The same launched run without --lifecycle and with it: the same writes, exactly; with it, the exec and exit lines added.</summary>
    [RootFact]
    public async Task Without_lifecycle_nothing_changes_and_with_it_the_writes_are_unchanged()
    {
        string[] command = ["--", Repository.Writer, "-n", "3", "-c", "2", "-e", "7", "-o", "/dev/null"];
        await using var without = TracerProcess.Start(command);
        Assert.Equal(7, await without.WaitForExitAsync(Timeout));
        await using var with = TracerProcess.Start(["--lifecycle", .. command]);
        Assert.Equal(7, await with.WaitForExitAsync(Timeout));

        Assert.All(without.Events, e => Assert.Equal("write", e.Kind()));
        Assert.Equal(without.StdoutLines.Count, without.Events.Count);
        Assert.Matches($@"captured {without.Events.Count} writes \(\d+ bytes\); dropped: kernel 0, stdout 0;", without.Stderr);
        var writes = with.Events.Where(e => e.Kind() == "write").ToList();
        Assert.Equal(Normalized(without.Events), Normalized(writes));
        Assert.Equal(["exec", "exit", "exit", "exit"], with.Events.Where(e => e.Kind() != "write").Select(e => e.Kind())); // the writer's exec, its children's exits, its own
    }

    /// <summary>
    /// Each event as its members in order, without the time, pids and tids named by role (the root or a child)
    /// and digits in the data masked, sorted: what two runs of one workload share, whatever the children's interleaving.
    /// </summary>
    private static List<string> Normalized(IReadOnlyList<JsonElement> events)
    {
        var root = events[0].Int("pid");
        string Role(int id) => id == root ? "root" : "child";
        return [.. events.Select(e => string.Join(",", e.EnumerateObject().Where(p => p.Name != "time").Select(p => p.Name switch
        {
            "pid" or "tid" or "root_pid" => $"{p.Name}={Role(p.Value.GetInt32())}",
            "data" => $"data={Digits().Replace(p.Value.GetString()!, "N")}",
            _ => $"{p.Name}={p.Value.GetRawText()}",
        }))).Order()];
    }

    /// <summary>For every process: its exec (at most one, here) before its first write, its exit after its last, and one exit.</summary>
    private static void AssertOrderedWithWrites(IReadOnlyList<JsonElement> events)
    {
        foreach (var process in events.Select((e, i) => (Event: e, Index: i)).GroupBy(x => x.Event.Int("pid")))
        {
            var kinds = process.Select(x => x.Event.Kind()).ToList();
            Assert.True(kinds[^1] == "exit", $"pid {process.Key}: {string.Join(" ", kinds)}");
            Assert.Single(kinds, k => k == "exit");
            Assert.True(kinds.IndexOf("exec") <= 0, $"pid {process.Key}: {string.Join(" ", kinds)}");
        }
    }

    private static void AssertExec(JsonElement exec, IReadOnlyList<string> argv)
    {
        Assert.Equal("exec", exec.Kind());
        var whole = Encoding.UTF8.GetByteCount(string.Concat(argv.Select(a => a + "\0")));
        var captured = Encoding.UTF8.GetBytes(string.Concat(argv.Select(a => a + "\0")))[..Math.Min(whole, CaptureBytes)];
        var expected = Encoding.UTF8.GetString(captured).Split('\0');
        // A capped argv ends inside an argument (or after one): its pieces are what the capture held.
        Assert.Equal(captured[^1] == 0 ? expected[..^1] : expected, exec.GetProperty("argv").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(whole > CaptureBytes, exec.IsTruncated());
        Assert.Equal(exec.Int("pid"), exec.Int("tid"));
    }

    private static JsonElement ExecOf(IReadOnlyList<JsonElement> events, int pid) => Assert.Single(events, e => e.Int("pid") == pid && e.Kind() == "exec");

    private static int IndexOf(IReadOnlyList<JsonElement> events, Func<JsonElement, bool> predicate) =>
        events.Select((e, i) => (e, i)).First(x => predicate(x.e)).i;

    /// <summary>The wait(2) status an exit event stands for.</summary>
    private static int WaitStatus(JsonElement exit) =>
        exit.TryGetProperty("signal", out var signal)
            ? signal.GetInt32() | (exit.TryGetProperty("core_dumped", out var core) && core.GetBoolean() ? 0x80 : 0)
            : exit.Int("code") << 8;

    private static string WithoutTime(string line) => line[(line.IndexOf(' ') + 1)..];

    [GeneratedRegex(@"^status (\d+) (\d+)\n$")]
    private static partial Regex StatusLine();

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();
}
