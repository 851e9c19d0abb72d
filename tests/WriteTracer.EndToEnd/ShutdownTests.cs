using System.Text.RegularExpressions;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd;

/// <summary>Stopping waits (--shutdown-timeout) for what a sink is still delivering, and accounts for what never got an answer.</summary>
public sealed partial class ShutdownTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private const string Lines2000 = "for i in $(seq 2000); do echo line $i; done >/dev/null";

    [RootFact]
    public async Task A_slow_but_healthy_Loki_gets_every_event_counted_as_delivered()
    {
        await using var loki = await LokiReceiver.StartAsync();
        loki.ResponseDelay = TimeSpan.FromSeconds(2.5);

        await using var tracer = TracerProcess.Start("-q", "-l", loki.PushUrl, "--metrics-port", "0", "--", "sh", "-c", Lines2000);
        Assert.Equal(0, await tracer.WaitForExitAsync(Timeout));

        var summary = ExitSummary.Parse(tracer.Stderr);
        Assert.True(summary.Captured >= 2000, tracer.Stderr);
        Assert.Equal(summary.Captured, loki.Entries.Count);
        Assert.Equal(0, summary.Dropped["loki"]);
        Assert.Equal(0, summary.Unconfirmed.GetValueOrDefault("loki"));
    }

    [RootFact]
    public async Task A_Loki_that_never_answers_is_waited_for_then_its_events_are_unconfirmed_not_dropped()
    {
        await using var loki = await LokiReceiver.StartAsync();
        loki.ResponseDelay = TimeSpan.FromHours(1);

        await using var tracer = TracerProcess.Start("-q", "-l", loki.PushUrl, "--metrics-port", "0", "--shutdown-timeout", "3",
            "--", "sh", "-c", Lines2000);
        Assert.Equal(0, await tracer.WaitForExitAsync(Timeout));

        var summary = ExitSummary.Parse(tracer.Stderr);
        Assert.True(summary.Captured >= 2000, tracer.Stderr);
        Assert.Matches(Waiting(summary.Captured), tracer.Stderr);
        Assert.Equal(summary.Captured, summary.Unconfirmed["loki"]);
        Assert.Equal(0, summary.Dropped["loki"]);
        Assert.Empty(loki.Entries);
    }

    [RootFact]
    public async Task A_second_SIGTERM_ends_the_wait_at_once()
    {
        const int lines = 500;
        await using var loki = await LokiReceiver.StartAsync();
        loki.ResponseDelay = TimeSpan.FromHours(1);
        using var writer = WriterProcess.StartHeld("-n", $"{lines}", "-f", "1");
        // The tracer stops as soon as every process it traces has exited: a held writer, never released, keeps it up.
        using var keepUp = WriterProcess.StartHeld("-n", "1");
        await using var tracer = TracerProcess.Start("-p", $"{keepUp.Pid}", "-p", $"{writer.Pid}", "-f", "1", "-q", "-l", loki.PushUrl,
            "--metrics-port", "0", "--shutdown-timeout", "600");
        await tracer.WaitUntilTracingAsync();
        writer.Release();
        Assert.Equal(0, await writer.WaitForExitAsync(Timeout));
        await tracer.WaitForStderrAsync("tracing writes", Timeout);

        Privileges.Signal(tracer.Pid, Privileges.SIGTERM);
        await tracer.WaitForStderrAsync("events in flight", Timeout);
        Privileges.Signal(tracer.Pid, Privileges.SIGTERM);
        // Well before the 600 s the first SIGTERM would have waited.
        Assert.Equal(0, await tracer.WaitForExitAsync(Timeout));

        var summary = ExitSummary.Parse(tracer.Stderr);
        Assert.Equal(lines, summary.Captured);
        Assert.Matches(Waiting(lines), tracer.Stderr);
        Assert.Contains("SIGTERM received while stopping; no longer waiting for the sinks", tracer.Stderr);
        Assert.Equal(lines, summary.Unconfirmed["loki"]);
        Assert.Equal(0, summary.Dropped["loki"]);
    }

    private static Regex Waiting(long events) => new($@"waiting up to \d+ s for loki: {events} events in flight");
}
