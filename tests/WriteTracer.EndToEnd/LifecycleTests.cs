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
    public async Task Launch_mode_reports_a_missing_command_with_the_shell_exit_code()
    {
        await using var tracer = TracerProcess.Start("--", "/nonexistent/command");
        Assert.Equal(127, await tracer.WaitForExitAsync(Timeout));
    }

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
