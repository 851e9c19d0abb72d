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
}
