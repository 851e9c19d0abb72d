using System.Net;
using System.Text.Json;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd;

/// <summary>Loki streams that scale: one stream per host, root_pid as structured metadata, a fallback without it.</summary>
public sealed class LokiStreamTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private const string Stage = "{stage=\"loki\"}";

    [RootFact]
    public async Task Forty_short_jobs_are_one_stream_each_entry_with_its_root_pid_as_metadata()
    {
        const int jobs = 40, lines = 5;
        await using var loki = await LokiReceiver.StartAsync();
        // A stream per job (root_pid as a label) would exceed this and be refused.
        loki.MaxStreams = 4;
        await using var api = await ApiTracer.StartAsync("-q", "-f", "1", "-l", loki.PushUrl, "--loki-label", "env=test");

        var pids = new List<int>();
        for (var job = 0; job < jobs; job++)
        {
            using var writer = WriterProcess.StartHeld("-n", $"{lines}");
            using (var response = await api.RegisterAsync(writer.Pid))
            {
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            }
            writer.Release();
            Assert.Equal(0, await writer.WaitForExitAsync(Timeout));
            pids.Add(writer.Pid);
        }
        await loki.WaitForEntriesAsync(jobs * lines, Timeout);
        Assert.Equal(0, await api.Tracer.StopAsync());

        var entries = loki.Entries;
        Assert.Equal(jobs * lines, entries.Count);
        var stream = Assert.Single(entries.Select(e => string.Join(",", e.Labels.OrderBy(l => l.Key).Select(l => $"{l.Key}={l.Value}"))).Distinct());
        Assert.Equal($"env=test,host={Environment.MachineName},job=write-tracer", stream);
        foreach (var entry in entries)
        {
            using var line = JsonDocument.Parse(entry.Line);
            Assert.Equal(new Dictionary<string, string> { ["root_pid"] = $"{line.RootElement.GetProperty("root_pid").GetInt32()}" }, entry.Metadata);
        }
        Assert.Equal(pids.Order(), entries.GroupBy(e => int.Parse(e.Metadata["root_pid"])).Select(g => g.Key).Order());
        Assert.All(entries.GroupBy(e => e.Metadata["root_pid"]), g => Assert.Equal(lines, g.Count()));
        Assert.All(loki.Requests, r => Assert.Equal(204, r.Status));
        Assert.Equal(0, ExitSummary.Parse(api.Tracer.Stderr).Dropped["loki"]);
    }

    [RootFact]
    public async Task A_receiver_refusing_structured_metadata_still_receives_every_entry_once()
    {
        const int lines = 3000;
        await using var loki = await LokiReceiver.StartAsync();
        loki.RefuseStructuredMetadata = true;
        var metricsPort = FreePort.Get();
        using var writer = WriterProcess.StartHeld("-n", $"{lines}", "-p", "200");
        // The tracer stops as soon as every process it traces has exited: a held writer, never released, keeps it up.
        using var keepUp = WriterProcess.StartHeld("-n", "1");
        await using var tracer = TracerProcess.Start("-p", $"{keepUp.Pid}", "-p", $"{writer.Pid}", "-f", "1", "-q", "-l", loki.PushUrl,
            "--metrics-port", $"{metricsPort}", "--metrics-address", "127.0.0.1");
        await tracer.WaitUntilTracingAsync();

        writer.Release();
        Assert.Equal(0, await writer.WaitForExitAsync(Timeout));
        var page = await MetricsPage.WaitForAsync(metricsPort, p => p[$"write_tracer_events_delivered_total{Stage}"] == lines, Timeout);
        Assert.Equal(0, await tracer.StopAsync());

        var entries = loki.Entries;
        Assert.Equal(lines, entries.Count);
        Assert.Equal(lines, entries.Select(e => e.Line).Distinct().Count());
        Assert.All(entries, e => Assert.Empty(e.Metadata));
        Assert.All(entries, e => Assert.Equal(writer.Pid, JsonDocument.Parse(e.Line).RootElement.GetProperty("root_pid").GetInt32()));
        // The first push was refused for its metadata and sent again without; nothing else was refused.
        Assert.Equal([400], loki.Requests.Where(r => r.Status != 204).Select(r => r.Status));
        Assert.Single(tracer.Stderr.Split('\n'), l => l.Contains("Loki refused structured metadata", StringComparison.Ordinal));
        Assert.Equal(0, page[$"write_tracer_events_dropped_total{Stage}"]);
        Assert.Equal(0, page["write_tracer_loki_pushes_total{result=\"failed\"}"]);
        Assert.Equal(0, ExitSummary.Parse(tracer.Stderr).Dropped["loki"]);
    }
}
