using System.Diagnostics;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd;

/// <summary>Losses in the kernel are reported, in /metrics and the exit summary, so that issued = captured + dropped.</summary>
public sealed class KernelLossTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [RootFact]
    public async Task Writes_lost_for_want_of_per_thread_storage_are_kernel_drops_in_metrics_and_summary()
    {
        const int threads = 2, lines = 400;
        var metricsPort = FreePort.Get();
        using var writer = WriterProcess.StartHeld("-t", $"{threads}", "-n", $"{lines}");
        // The tracer stops as soon as every process it traces has exited: a held writer, never released, keeps it up.
        using var keepUp = WriterProcess.StartHeld("-n", "1");
        // The tracer's test hook: every per-thread storage request of --capture-at exit fails.
        await using var tracer = TracerProcess.Start(Repository.Tracer,
            ["-p", $"{keepUp.Pid}", "-p", $"{writer.Pid}", "-f", "1", "--capture-at", "exit",
             "--metrics-port", $"{metricsPort}", "--metrics-address", "127.0.0.1"],
            new Dictionary<string, string> { ["WRITE_TRACER_TEST_FAIL_PENDING"] = "1" });
        await tracer.WaitUntilTracingAsync();
        writer.Release();
        Assert.Equal(0, await writer.WaitForExitAsync(Timeout));

        const int issued = threads * lines;
        var page = await MetricsPage.WaitForAsync(metricsPort,
            p => p["write_tracer_write_calls_total"] + p["write_tracer_events_dropped_total{stage=\"kernel\"}"] == issued, Timeout);
        Assert.Equal(0, await tracer.StopAsync());

        Assert.Equal(issued, page["write_tracer_events_dropped_total{stage=\"kernel\"}"]);
        Assert.Equal(0, page["write_tracer_write_calls_total"]);
        var summary = ExitSummary.Parse(tracer.Stderr);
        Assert.Equal(issued, summary.Captured + summary.Dropped["kernel"]);
        Assert.Equal(issued, summary.Dropped["kernel"]);
        Assert.Contains($"; no per-thread storage (--capture-at exit) {issued}", tracer.Stderr);
        Assert.Empty(tracer.StdoutLines);
    }

    [RootFact]
    public async Task Records_lost_to_a_full_ring_writes_execs_and_exits_alike_are_counted_as_kernel_drops()
    {
        // The tracer is stopped (SIGSTOP) while its 1 MiB ring takes 20,000 records of 64-byte
        // writes (about 6,200 fit) and then the execs and exits of six programs: the reader
        // cannot make room, so the kernel must count every record it could not reserve.
        const int writes = 20000;
        const int execs = 6, exits = 7; // the writer and five /bin/true exec and exit; the shell exits
        using var directory = new TempFile();
        var done = Path.Combine(directory.Directory, "done");
        using var shell = Process.Start(new ProcessStartInfo("/bin/sh")
        {
            ArgumentList = { "-c", $"read _; {Repository.Writer} -q {writes} -s 64 -f 3 3> /dev/null; " +
                $"for i in 1 2 3 4 5; do /bin/true; done; : > {done}; read _" },
            RedirectStandardInput = true,
            UseShellExecute = false,
        })!;
        await using var tracer = TracerProcess.Start("-p", $"{shell.Id}", "-f", "3", "--lifecycle", "--ring-buffer-mb", "1");
        await tracer.WaitUntilTracingAsync();

        Privileges.Signal(tracer.Pid, Privileges.SIGSTOP);
        try
        {
            await shell.StandardInput.WriteLineAsync();
            await shell.StandardInput.FlushAsync();
            var deadline = DateTime.UtcNow + Timeout;
            while (!File.Exists(done))
            {
                Assert.True(DateTime.UtcNow < deadline, "the workload did not finish");
                await Task.Delay(20);
            }
        }
        finally
        {
            Privileges.Signal(tracer.Pid, Privileges.SIGCONT);
        }
        shell.StandardInput.Close();
        Assert.Equal(0, await tracer.WaitForExitAsync(Timeout));

        var summary = ExitSummary.Parse(tracer.Stderr);
        Assert.True(summary.Dropped["kernel"] > writes / 2, tracer.Stderr);
        Assert.True(summary.Execs + summary.Exits < execs + exits, $"no exec or exit record was lost:\n{tracer.Stderr}");
        Assert.Equal(writes + execs + exits, summary.Captured + summary.Execs + summary.Exits + summary.Dropped["kernel"]);
        var events = tracer.Events;
        Assert.Equal(summary.Captured, events.Count(e => e.Kind() == "write"));
        Assert.Equal(summary.Execs, events.Count(e => e.Kind() == "exec"));
        Assert.Equal(summary.Exits, events.Count(e => e.Kind() == "exit"));
    }
}
