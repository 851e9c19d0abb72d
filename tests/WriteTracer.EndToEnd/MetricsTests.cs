using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd;

/// <summary>/metrics as a real Prometheus server and promtool see it.</summary>
public sealed class MetricsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [RootFact]
    public async Task Prometheus_scrapes_write_calls_equal_to_the_events_captured()
    {
        const int threads = 2, lines = 3000;
        var metricsPort = FreePort.Get();
        using var writer = WriterProcess.StartHeld("-t", $"{threads}", "-n", $"{lines}", "-c", "1");
        // A long tracking interval: the tracer stops once its only process has exited, which
        // it notices at a reconciliation; Prometheus must still find it up after the writer is done.
        await using var tracer = TracerProcess.Start("-p", $"{writer.Pid}", "-i", "3600",
            "--metrics-port", $"{metricsPort}", "--metrics-address", "127.0.0.1");
        await tracer.WaitUntilTracingAsync();
        await using var prometheus = await PrometheusServer.StartAsync($"127.0.0.1:{metricsPort}");

        writer.Release();
        Assert.Equal(0, await writer.WaitForExitAsync(Timeout));
        // The lines of the parent's threads and of the child, and the parent's "writer done" line on stderr.
        const int events = threads * lines + lines + 1;
        await tracer.WaitForEventsAsync(_ => true, events, Timeout);

        var page = await MetricsPage.ScrapeAsync(metricsPort);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", page.ContentType?.ToString());
        Assert.Equal(events, page["write_tracer_write_calls_total"]);
        Assert.Equal(events, page["write_tracer_syscalls_total{syscall=\"write\"}"]);
        Assert.Single(page.Samples.Keys, k => k.StartsWith("write_tracer_syscalls_total", StringComparison.Ordinal));
        Assert.Equal(events, page["write_tracer_events_delivered_total{stage=\"stdout\"}"]);
        Assert.Equal(tracer.Events.Sum(e => e.GetProperty("count").GetInt64()), page["write_tracer_write_bytes_total"]);
        Assert.Equal(0, page["write_tracer_events_dropped_total{stage=\"kernel\"}"]);
        Assert.Equal(0, page["write_tracer_events_dropped_total{stage=\"stdout\"}"]);
        Assert.Equal(1, page["write_tracer_registered_processes"]);
        Assert.Equal(Process.GetProcessById(tracer.Pid).StartTime.ToUniversalTime(),
            DateTime.UnixEpoch.AddSeconds(page["process_start_time_seconds"]), TimeSpan.FromSeconds(1));

        Assert.Equal(events, await prometheus.WaitForValueAsync("write_tracer_write_calls_total", events, Timeout));
        Assert.Equal(0, await prometheus.QueryAsync("write_tracer_events_dropped_total{stage=\"kernel\"}"));
        Assert.Equal(1, await prometheus.QueryAsync("up{job=\"write-tracer\"}"));

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
