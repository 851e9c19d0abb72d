using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd;

/// <summary>-l URL: events pushed to a receiver that holds the tracer to Loki's push contract, through its failures.</summary>
public sealed class LokiTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private const string Stage = "{stage=\"loki\"}";

    [RootFact]
    public async Task After_faults_clear_every_event_arrives_exactly_once()
    {
        await using var loki = await LokiReceiver.StartAsync();
        loki.Inject(
            LokiFault.Fail(500),
            LokiFault.Fail(503),
            LokiFault.Fail(429, retryAfter: TimeSpan.FromSeconds(1)),
            LokiFault.Slow(TimeSpan.FromSeconds(2)));
        var metricsPort = FreePort.Get();
        var url = loki.PushUrl.Replace("http://", "http://tracer:s%40cret@", StringComparison.Ordinal);

        using var first = WriterProcess.StartHeld("-t", "2", "-n", "1500");
        using var second = WriterProcess.StartHeld("-n", "1000");
        // The tracer stops as soon as every process it traces has exited: a held writer, never released, keeps it up.
        using var keepUp = WriterProcess.StartHeld("-n", "1");
        await using var tracer = TracerProcess.Start("-p", $"{keepUp.Pid}", "-p", $"{first.Pid}", "-p", $"{second.Pid}", "-f", "1",
            "-l", url, "--loki-tenant", "team-a", "--loki-label", "env=test", "--loki-label", "region=eu_1",
            "--metrics-port", $"{metricsPort}", "--metrics-address", "127.0.0.1");
        await tracer.WaitUntilTracingAsync();

        first.Release();
        Assert.Equal(0, await first.WaitForExitAsync(Timeout));
        await loki.WaitForEntriesAsync(1, Timeout);
        // Connection refused while the second writer runs.
        await loki.StopAsync();
        second.Release();
        Assert.Equal(0, await second.WaitForExitAsync(Timeout));
        await tracer.WaitForEventsAsync(_ => true, 4000, Timeout);
        await Task.Delay(TimeSpan.FromSeconds(2));
        await loki.RestartAsync();
        await loki.WaitForEntriesAsync(4000, Timeout);
        var metrics = await MetricsPage.ScrapeAsync(metricsPort);
        Assert.Equal(0, await tracer.StopAsync());

        var entries = loki.Entries;
        Assert.Equal(4000, entries.Count);
        Assert.Equal(4000, entries.Select(e => e.Line).Distinct().Count());
        Assert.Equal(tracer.StdoutLines.Order(StringComparer.Ordinal), entries.Select(e => e.Line).Order(StringComparer.Ordinal));
        foreach (var entry in entries)
        {
            using var line = JsonDocument.Parse(entry.Line);
            var rootPid = line.RootElement.GetProperty("root_pid").GetInt32();
            Assert.Equal(
                new Dictionary<string, string> { ["job"] = "write-tracer", ["host"] = Environment.MachineName, ["env"] = "test", ["region"] = "eu_1" },
                entry.Labels);
            Assert.Equal(new Dictionary<string, string> { ["root_pid"] = $"{rootPid}" }, entry.Metadata);
            Assert.Equal(UnixNanoseconds(line.RootElement.GetProperty("time").GetString()!), entry.UnixNanoseconds);
        }
        Assert.Equal(new[] { first.Pid, second.Pid }.Order(), entries.Select(e => int.Parse(e.Metadata["root_pid"])).Distinct().Order());

        var requests = loki.Requests;
        Assert.All(requests, r => Assert.Equal("team-a", r.Tenant));
        var credentials = Convert.ToBase64String(Encoding.UTF8.GetBytes("tracer:s@cret"));
        Assert.All(requests, r => Assert.Equal($"Basic {credentials}", r.Authorization));
        Assert.All(requests, r => Assert.Null(r.Status == 400 ? r.Error : null));
        Assert.Equal(new[] { 500, 503, 429 }, requests.Take(3).Select(r => r.Status));
        // Retry-After: 1 was honoured: the retry came no sooner.
        Assert.True(Stopwatch.GetElapsedTime(requests[2].ReceivedAt, requests[3].ReceivedAt) >= TimeSpan.FromSeconds(0.95));

        Assert.Equal(4000, metrics[$"write_tracer_events_delivered_total{Stage}"]);
        Assert.Equal(0, metrics[$"write_tracer_events_dropped_total{Stage}"]);
        Assert.Equal(0, metrics["write_tracer_loki_pushes_total{result=\"failed\"}"]);
        Assert.Equal(requests.Count(r => r.Status == 204), metrics["write_tracer_loki_pushes_total{result=\"ok\"}"]);
        // The three injected failures, and at least one refused connection.
        Assert.True(metrics["write_tracer_loki_pushes_total{result=\"retry\"}"] >= 4, metrics.Text);
        Assert.Equal(0, ExitSummary.Parse(tracer.Stderr).Dropped["loki"]);
    }

    [RootFact]
    public async Task With_Loki_down_longer_than_its_queue_holds_drops_are_counted_and_other_sinks_are_unaffected()
    {
        const int burst = 20000, later = 500;
        await using var loki = await LokiReceiver.StartAsync();
        await loki.StopAsync();
        using var directory = new TempFile();
        var metricsPort = FreePort.Get();

        // Paced (100 µs after each write, 2 s or more in all) so that events still arrive once the
        // first push is failing: an unpaced burst can be over before any push starts, and then
        // nothing is left to wait in the queue.
        using var first = WriterProcess.StartHeld("-n", $"{burst}", "-p", "100");
        using var second = WriterProcess.StartHeld("-n", $"{later}");
        // The tracer stops as soon as every process it traces has exited: a held writer, never released, keeps it up.
        using var keepUp = WriterProcess.StartHeld("-n", "1");
        await using var tracer = TracerProcess.Start("-p", $"{keepUp.Pid}", "-p", $"{first.Pid}", "-p", $"{second.Pid}", "-f", "1",
            "-l", loki.PushUrl, "--loki-queue-events", "1000", "-o", directory.Path,
            "--metrics-port", $"{metricsPort}", "--metrics-address", "127.0.0.1");
        await tracer.WaitUntilTracingAsync();

        first.Release();
        Assert.Equal(0, await first.WaitForExitAsync(Timeout));
        await tracer.WaitForEventsAsync(_ => true, burst, Timeout);
        var down = await MetricsPage.WaitForAsync(metricsPort,
            page => page["write_tracer_loki_pushes_total{result=\"retry\"}"] > 0 && page[$"write_tracer_sink_queued_events{Stage}"] > 0,
            Timeout);
        Assert.True(down[$"write_tracer_events_dropped_total{Stage}"] > 0, down.Text);
        Assert.Equal(0, down[$"write_tracer_events_delivered_total{Stage}"]);

        // Back up: what the sink still holds arrives, and so does what is written from now on.
        await loki.RestartAsync();
        await MetricsPage.WaitForAsync(metricsPort,
            page => page[$"write_tracer_events_delivered_total{Stage}"] > 0 && page[$"write_tracer_sink_queued_events{Stage}"] == 0,
            Timeout);
        second.Release();
        Assert.Equal(0, await second.WaitForExitAsync(Timeout));
        await tracer.WaitForEventsAsync(_ => true, burst + later, Timeout);
        var settled = await MetricsPage.WaitForAsync(metricsPort,
            page => page[$"write_tracer_events_delivered_total{Stage}"] + page[$"write_tracer_events_dropped_total{Stage}"] == burst + later,
            Timeout);
        Assert.Equal(0, await tracer.StopAsync());

        Assert.Equal(burst + later, settled["write_tracer_write_calls_total"]);
        Assert.Equal(settled[$"write_tracer_events_delivered_total{Stage}"], loki.Entries.Count);
        Assert.Equal(loki.Entries.Count, loki.Entries.Select(e => e.Line).Distinct().Count());
        var laterAtLoki = loki.Entries.Select(e => JsonDocument.Parse(e.Line).RootElement.GetProperty("pid").GetInt32()).Count(pid => pid == second.Pid);
        Assert.Equal(later, laterAtLoki);

        // Stdout and the file lost nothing.
        var summary = ExitSummary.Parse(tracer.Stderr);
        Assert.Equal(0, summary.Dropped["stdout"]);
        Assert.Equal(0, summary.Dropped["file"]);
        Assert.Equal(settled[$"write_tracer_events_dropped_total{Stage}"], summary.Dropped["loki"]);
        Assert.Equal(burst + later, tracer.StdoutLines.Count);
        Assert.Equal(tracer.StdoutLines, File.ReadAllLines(directory.Path));
    }

    [RootFact]
    public async Task A_slow_sink_forced_to_overflow_accounts_for_every_event()
    {
        const int writes = 20000;
        await using var loki = await LokiReceiver.StartAsync();
        loki.ResponseDelay = TimeSpan.FromMilliseconds(500);
        var metricsPort = FreePort.Get();

        using var writer = WriterProcess.StartHeld("-n", $"{writes}");
        // The tracer stops as soon as every process it traces has exited: a held writer, never released, keeps it up.
        using var keepUp = WriterProcess.StartHeld("-n", "1");
        await using var tracer = TracerProcess.Start("-p", $"{keepUp.Pid}", "-p", $"{writer.Pid}", "-f", "1", "-q",
            "-l", loki.PushUrl, "--loki-queue-events", "200",
            "--metrics-port", $"{metricsPort}", "--metrics-address", "127.0.0.1");
        await tracer.WaitUntilTracingAsync();
        writer.Release();
        Assert.Equal(0, await writer.WaitForExitAsync(Timeout));

        var page = await MetricsPage.WaitForAsync(metricsPort,
            p => p["write_tracer_write_calls_total"] == writes
                && p[$"write_tracer_events_delivered_total{Stage}"] + p[$"write_tracer_events_dropped_total{Stage}"] == writes,
            Timeout);
        Assert.Equal(0, await tracer.StopAsync());

        Assert.True(page[$"write_tracer_events_dropped_total{Stage}"] > 0, page.Text);
        Assert.True(page[$"write_tracer_events_delivered_total{Stage}"] > 0, page.Text);
        Assert.Equal(page[$"write_tracer_events_delivered_total{Stage}"], loki.Entries.Count);
        Assert.Equal(loki.Entries.Count, loki.Entries.Select(e => e.Line).Distinct().Count());
        var summary = ExitSummary.Parse(tracer.Stderr);
        Assert.Equal(writes, summary.Captured);
        Assert.Equal(0, summary.Dropped["kernel"]);
        Assert.Equal(page[$"write_tracer_events_dropped_total{Stage}"], summary.Dropped["loki"]);
    }

    /// <summary>"2026-11-22T04:18:40.123456789Z" as nanoseconds since the epoch.</summary>
    private static long UnixNanoseconds(string time)
    {
        var seconds = DateTimeOffset.ParseExact(time[..19], "yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        return seconds.ToUnixTimeSeconds() * 1_000_000_000 + long.Parse(time[20..29], CultureInfo.InvariantCulture);
    }
}
