using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd;

/// <summary>/metrics as a real Prometheus server and promtool see it.</summary>
public sealed class MetricsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>
    /// Prometheus asks for OpenMetrics first; a proxy that asks for the text format instead
    /// makes it parse that one. Either way the figures are the tracer's exactly.
    /// </summary>
    [RootTheory]
    [InlineData(null, "application/openmetrics-text; version=1.0.0; charset=utf-8")]
    [InlineData("text/plain;version=0.0.4", "text/plain; version=0.0.4; charset=utf-8")]
    public async Task Prometheus_scrapes_write_calls_equal_to_the_events_captured_and_a_delay_for_every_stage(string? accept, string format)
    {
        const int threads = 2, lines = 3000;
        var metricsPort = FreePort.Get();
        using var file = new TempFile();
        await using var loki = await LokiReceiver.StartAsync();
        using var writer = WriterProcess.StartHeld("-t", $"{threads}", "-n", $"{lines}", "-c", "1");
        // The tracer stops as soon as every process it traces has exited; Prometheus must still find it
        // up after the writer is done: a held writer, never released, keeps it up.
        using var keepUp = WriterProcess.StartHeld("-n", "1");
        await using var tracer = TracerProcess.Start("-p", $"{writer.Pid}", "-p", $"{keepUp.Pid}", "-o", file.Path, "-l", loki.PushUrl,
            "--metrics-port", $"{metricsPort}", "--metrics-address", "127.0.0.1");
        await tracer.WaitUntilTracingAsync();
        await using var proxy = await ScrapeProxy.StartAsync(metricsPort, accept);
        await using var prometheus = await PrometheusServer.StartAsync(proxy.Target);

        writer.Release();
        Assert.Equal(0, await writer.WaitForExitAsync(Timeout));
        // The lines of the parent's threads and of the child, and the parent's "writer done" line on stderr.
        const int events = threads * lines + lines + 1;
        await tracer.WaitForEventsAsync(_ => true, events, Timeout);
        await loki.WaitForEntriesAsync(events, Timeout);

        // Once the kernel's report of the writer's exit has unregistered it (the held writer stays).
        var page = await MetricsPage.WaitForAsync(metricsPort, p => p["write_tracer_registered_processes"] == 1, Timeout);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", page.ContentType?.ToString());
        Assert.Equal(events, page["write_tracer_write_calls_total"]);
        Assert.Equal(events, page["write_tracer_syscalls_total{syscall=\"write\"}"]);
        Assert.Single(page.Samples.Keys, k => k.StartsWith("write_tracer_syscalls_total", StringComparison.Ordinal));
        Assert.Equal(events, page["write_tracer_events_delivered_total{stage=\"stdout\"}"]);
        Assert.Equal(tracer.Events.Sum(e => e.GetProperty("count").GetInt64()), page["write_tracer_write_bytes_total"]);
        Assert.Equal(0, page["write_tracer_events_dropped_total{stage=\"kernel\"}"]);
        Assert.Equal(0, page["write_tracer_events_dropped_total{stage=\"stdout\"}"]);
        Assert.Equal(Process.GetProcessById(tracer.Pid).StartTime.ToUniversalTime(),
            DateTime.UnixEpoch.AddSeconds(page["process_start_time_seconds"]), TimeSpan.FromSeconds(1));

        Assert.Equal(events, await prometheus.WaitForValueAsync("write_tracer_write_calls_total", events, Timeout));
        Assert.Equal(0, await prometheus.QueryAsync("write_tracer_events_dropped_total{stage=\"kernel\"}"));
        Assert.Equal(1, await prometheus.QueryAsync("up{job=\"write-tracer\"}"));
        foreach (var stage in new[] { "stdout", "file", "loki" })
        {
            Assert.Equal(events, await prometheus.WaitForValueAsync($"write_tracer_events_delivered_total{{stage=\"{stage}\"}}", events, Timeout));
            var batches = await prometheus.QueryAsync($"write_tracer_event_delay_seconds_count{{stage=\"{stage}\"}}");
            Assert.True(batches > 0, $"{stage}: {batches} batches with a delay");
            Assert.Equal(batches, await prometheus.QueryAsync($"write_tracer_event_delay_seconds_bucket{{stage=\"{stage}\",le=\"+Inf\"}}"));
        }
        Assert.NotEmpty(proxy.ContentTypes);
        Assert.All(proxy.ContentTypes, type => Assert.Equal(format, type));

        var (code, stdout, stderr) = await PromtoolCheckAsync(page.Text);
        Assert.True(code == 0 && stdout.Length == 0 && stderr.Length == 0, $"promtool check metrics ({code}):\n{stdout}{stderr}");
        Assert.Equal(0, await tracer.StopAsync());
    }

    [RootFact]
    public async Task A_busy_metrics_port_is_a_one_line_start_up_error()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;

        using var writer = WriterProcess.StartHeld("-n", "1");
        await using var tracer = TracerProcess.Start("-p", $"{writer.Pid}", "--metrics-port", $"{port}", "--metrics-address", "127.0.0.1");
        Assert.Equal(1, await tracer.WaitForExitAsync(Timeout));
        Assert.Equal($"write-tracer: --metrics-port: cannot listen on 127.0.0.1:{port}: Address already in use\n", tracer.Stderr);
    }

    private static async Task<(int Code, string Stdout, string Stderr)> PromtoolCheckAsync(string metrics)
    {
        var start = new ProcessStartInfo("/usr/bin/promtool")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("check");
        start.ArgumentList.Add("metrics");
        using var promtool = Process.Start(start)!;
        var stdout = promtool.StandardOutput.ReadToEndAsync();
        var stderr = promtool.StandardError.ReadToEndAsync();
        await promtool.StandardInput.WriteAsync(metrics);
        promtool.StandardInput.Close();
        await promtool.WaitForExitAsync();
        return (promtool.ExitCode, await stdout, await stderr);
    }
}
