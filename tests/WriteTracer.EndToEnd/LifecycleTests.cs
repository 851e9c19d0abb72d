using System.Text.Json;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd;

/// <summary>Launch mode, signals, a closed stdout and the tracer's refusal to trace itself.</summary>
public sealed class LifecycleTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [RootFact]
    public async Task Launch_mode_captures_the_first_write_and_returns_the_exit_code()
    {
        await using var tracer = TracerProcess.Start("--", Repository.Writer, "-n", "3", "-e", "7");
        Assert.Equal(7, await tracer.WaitForExitAsync(Timeout));

        var events = tracer.Events;
        var writerPid = events[0].Int("pid");
        // The writer's very first write(2) is its pid line on stderr.
        Assert.Equal($"writer pid {writerPid}\n", events[0].GetProperty("data").GetString());
        Assert.Equal(2, events[0].Int("fd"));
        var lines = events.Where(e => e.Int("fd") == 1).Select(e => e.GetProperty("data").GetString()).ToList();
        Assert.Equal([.. Enumerable.Range(0, 3).Select(i => new WriterLine(writerPid, writerPid, i).Text)], lines);
        Assert.StartsWith($"writer done pid={writerPid}", events[^1].GetProperty("data").GetString());
        Assert.All(events, e => Assert.Equal(writerPid, e.Int("root_pid")));
    }

    [RootFact]
    public async Task Launch_mode_reports_a_missing_command_with_the_shell_exit_code_before_tracing_anything()
    {
        await using var tracer = TracerProcess.Start("--", "/nonexistent/command");
        Assert.Equal(127, await tracer.WaitForExitAsync(Timeout));
        Assert.Equal("write-tracer: cannot run /nonexistent/command: no such file\n", tracer.Stderr);
        Assert.Empty(tracer.StdoutLines);
    }

    /// <summary>
    /// A command that says "ready" once its trap is set, then waits for a signal in short sleeps.
    /// Commands write to /dev/null: their writes are traced all the same, and stdout holds only events.
    /// </summary>
    private const string Trapping = "exec > /dev/null; trap \"echo got-$1; exit 7\" $1; echo ready; while :; do sleep 0.1; done";

    [RootTheory]
    [InlineData("TERM", Privileges.SIGTERM)]
    [InlineData("INT", Privileges.SIGINT)]
    [InlineData("HUP", Privileges.SIGHUP)]
    [InlineData("QUIT", Privileges.SIGQUIT)]
    public async Task Launch_mode_passes_a_signal_on_and_exits_with_the_command_after_flushing(string name, int signal)
    {
        await using var tracer = TracerProcess.Start("--", "/bin/sh", "-c", Trapping, "sh", name);
        var command = await WaitUntilReadyAsync(tracer);

        Privileges.Signal(tracer.Pid, signal);

        Assert.Equal(7, await tracer.WaitForExitAsync(Timeout));
        var events = tracer.Events.Where(e => e.Int("pid") == command).Select(e => e.GetProperty("data").GetString());
        Assert.Equal(["ready\n", $"got-{name}\n"], events);
        Assert.Contains($"passed on to /bin/sh (pid {command})", tracer.Stderr);
        Assert.Contains("/bin/sh exited with code 7", tracer.Stderr);
        Assert.Equal(2, ExitSummary.Parse(tracer.Stderr).Captured);
        Assert.False(IsRunning(command));
    }

    [RootFact]
    public async Task Launch_mode_exits_128_plus_the_signal_that_ended_the_command()
    {
        await using var tracer = TracerProcess.Start("--", "/bin/sh", "-c", "exec > /dev/null; echo ready; kill -KILL $$");

        Assert.Equal(137, await tracer.WaitForExitAsync(Timeout));
        Assert.Equal("ready\n", Assert.Single(tracer.Events).GetProperty("data").GetString());
    }

    [RootTheory]
    [InlineData("TERM", Privileges.SIGTERM, true, "SIGTERM received again; killing /bin/sh")]
    [InlineData("INT", Privileges.SIGINT, false, "/bin/sh is still running 10 s after being asked to stop; killing it")]
    public async Task A_command_that_ignores_the_signal_is_killed_by_a_second_one_or_after_the_grace_period(
        string name, int signal, bool twice, string killing)
    {
        await using var tracer = TracerProcess.Start("--", "/bin/sh", "-c", $"exec > /dev/null; trap '' {name}; echo ready; exec sleep 600");
        var command = await WaitUntilReadyAsync(tracer);

        Privileges.Signal(tracer.Pid, signal);
        if (twice)
        {
            await tracer.WaitForStderrAsync("passed on to /bin/sh", Timeout);
            Assert.True(IsRunning(command));
            Privileges.Signal(tracer.Pid, signal);
        }

        Assert.Equal(137, await tracer.WaitForExitAsync(Timeout));
        Assert.Contains(killing, tracer.Stderr);
        Assert.False(IsRunning(command));
    }

    /// <summary>Counts the SIGINTs it gets (writing got-N to fd 3) and exits 3 + their number a second after the first.</summary>
    private const string SigintCounter = """
        import os, signal, sys, time
        count = 0
        def counted(signum, frame):
            global count
            count += 1
            os.write(3, b"got-%d\n" % count)
        signal.signal(signal.SIGINT, counted)
        os.write(3, b"ready\n")
        while count == 0:
            signal.pause()
        time.sleep(1)
        sys.exit(3 + count)
        """;

    [RootFact]
    public async Task At_a_terminal_ctrl_c_reaches_the_command_once()
    {
        // script(1) runs the tracer on a pseudo-terminal. ^C typed there goes to the terminal's whole
        // foreground process group, the command included: passed on as well, it would arrive twice.
        // script's shell execs the tracer: a shell left waiting in that group would die of the ^C
        // itself where it is dash (script runs $SHELL, /bin/sh when that is unset, as under CI).
        using var directory = new TempFile();
        File.WriteAllText(Path.Combine(directory.Directory, "counter.py"), SigintCounter);
        var (exitCode, _, stderr) = await Shell.RunAsync(
            $$"""
            cd {{directory.Directory}}
            {
                until grep -qs ready events; do sleep 0.1; done
                printf '\003'
                until grep -qs "exited with code" log; do sleep 0.1; done
            } | script -qefc 'exec "$TRACER" --metrics-port 0 -f 3 -- /usr/bin/python3 counter.py 3> /dev/null > events 2> log' /dev/null
            """, Timeout);

        var log = File.ReadAllText(Path.Combine(directory.Directory, "log"));
        Assert.True(exitCode == 4, $"exit code {exitCode}\n{stderr}\n{log}");
        Assert.Contains("SIGINT received; not passed on: /usr/bin/python3 is in the terminal's foreground process group", log);
        var events = File.ReadAllLines(Path.Combine(directory.Directory, "events")).Select(l => JsonDocument.Parse(l).RootElement);
        Assert.Equal(["ready\n", "got-1\n"], events.Select(e => e.GetProperty("data").GetString()));
    }

    [RootFact]
    public async Task A_tracer_that_stops_on_its_own_stops_its_command_too()
    {
        // head leaves after three lines: the tracer stops, and takes the endless command with it.
        using var pidFile = new TempFile();
        var (exitCode, stdout, stderr) = await Shell.RunAsync(
            $$"""
            "$TRACER" --metrics-port 0 -- /bin/sh -c 'echo $$ > {{pidFile.Path}}; while :; do echo line > /dev/null; sleep 0.05; done' | head -3
            exit ${PIPESTATUS[0]}
            """, Timeout);

        Assert.Equal(128 + Privileges.SIGTERM, exitCode);
        Assert.Equal(3, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("sending SIGTERM to /bin/sh", stderr);
        Assert.False(IsRunning(int.Parse(File.ReadAllText(pidFile.Path))));
    }

    private static async Task<int> WaitUntilReadyAsync(TracerProcess tracer)
    {
        var ready = await tracer.WaitForEventsAsync(e => e.GetProperty("data").GetString() == "ready\n", 1, Timeout);
        return ready[0].Int("pid");
    }

    /// <summary>Alive, not a zombie waiting to be reaped.</summary>
    private static bool IsRunning(int pid) =>
        File.Exists($"/proc/{pid}/stat") && File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1][0] != 'Z';

    [RootTheory]
    [InlineData(Privileges.SIGTERM)]
    [InlineData(Privileges.SIGINT)]
    public async Task A_signal_drains_and_exits_zero(int signal)
    {
        using var writer = WriterProcess.StartHeld("-n", "5", "-w", "100000");
        await using var tracer = TracerProcess.Start("-p", $"{writer.Pid}");
        await tracer.WaitUntilTracingAsync();
        Assert.Equal(0, await tracer.StopAsync(signal));
        Assert.Contains("captured 0 writes", tracer.Stderr);
        Assert.DoesNotContain("Exception", tracer.Stderr);
    }

    [RootFact]
    public async Task A_closed_stdout_pipe_ends_the_tracer_cleanly()
    {
        // The writer outlives the pipeline by far: the tracer must notice head leaving and exit 0.
        var (exitCode, stdout, stderr) = await Shell.RunAsync(
            """
            "$WRITER" -n 1000000 -w 200 > /dev/null 2>&1 &
            writer=$!
            "$TRACER" --metrics-port 0 -p $writer | head -3
            status=${PIPESTATUS[0]}
            kill $writer 2>/dev/null
            exit $status
            """, Timeout);

        Assert.Equal(0, exitCode);
        Assert.Equal(3, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.DoesNotContain("Exception", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [RootFact]
    public async Task The_tracer_never_traces_itself_even_as_a_descendant_of_a_root()
    {
        // `write-tracer -p $$`: the registered shell is the tracer's parent. Were the tracer
        // traced, each event it prints would produce another one, endlessly.
        using var output = new TempFile();
        var (exitCode, _, stderr) = await Shell.RunAsync(
            $$"""
            "$TRACER" --metrics-port 0 -p $$ > {{output.Path}} 2> {{output.Path}}.err &
            tracer=$!
            for i in $(seq 1 100); do grep -q "tracing writes" {{output.Path}}.err && break; sleep 0.1; done
            for i in 1 2 3; do echo "shell line $i" > /dev/null; done
            sleep 0.5
            kill -TERM $tracer
            wait $tracer
            echo "tracer pid $tracer" >&2
            """, Timeout);

        Assert.Equal(0, exitCode);
        var tracerPid = int.Parse(stderr.Split(' ')[^1]);
        var events = File.ReadAllLines(output.Path).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.DoesNotContain(events, e => e.Int("pid") == tracerPid);
        Assert.Equal(3, events.Count(e => e.GetProperty("data").GetString()!.StartsWith("shell line")));
    }
}
