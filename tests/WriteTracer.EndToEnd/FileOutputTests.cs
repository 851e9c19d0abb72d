using System.Text.Json;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd;

/// <summary>-o PATH: JSON lines in a file rotated exactly every N records, whole records only, through a full disk.</summary>
public sealed class FileOutputTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [RootFact]
    public async Task Rotates_exactly_every_n_records_keeping_the_newest_backups()
    {
        const int records = 5500, perFile = 1000, backups = 3;
        using var directory = new TempFile();
        var path = Path.Combine(directory.Directory, "events.jsonl");
        // Left by an earlier run that kept more backups: older than PATH.3, so they must go.
        File.WriteAllText(path + ".4", "stale\n");
        File.WriteAllText(path + ".5", "stale\n");

        using var writer = WriterProcess.StartHeld("-n", $"{records}");
        await using var tracer = TracerProcess.Start("-p", $"{writer.Pid}", "-f", "1",
            "-o", path, "-n", $"{perFile}", "--max-backups", $"{backups}");
        await tracer.WaitUntilTracingAsync();
        writer.Release();
        Assert.Equal(0, await writer.WaitForExitAsync(Timeout));
        await tracer.WaitForEventsAsync(_ => true, records, Timeout);
        Assert.Equal(0, await tracer.StopAsync());

        Assert.Equal(
            new[] { "events.jsonl", "events.jsonl.1", "events.jsonl.2", "events.jsonl.3" },
            Directory.GetFiles(directory.Directory).Select(Path.GetFileName).Order());
        var current = File.ReadAllLines(path);
        Assert.Equal(records % perFile, current.Length);
        for (var generation = 1; generation <= backups; generation++)
        {
            Assert.Equal(perFile, File.ReadAllLines($"{path}.{generation}").Length);
        }

        // Oldest first, the kept files are exactly the last 3500 events stdout saw, in order.
        var kept = Enumerable.Range(1, backups).Reverse().SelectMany(g => File.ReadAllLines($"{path}.{g}")).Concat(current).ToList();
        Assert.Equal(tracer.StdoutLines.Skip(records - kept.Count), kept);
        var seqs = kept.Select(l => Parse(l).Seq).ToList();
        Assert.Equal(Enumerable.Range(records - kept.Count, kept.Count), seqs);
        Assert.Equal(0, ExitSummary.Parse(tracer.Stderr).Dropped["file"]);
    }

    [RootFact]
    public async Task An_existing_file_is_rotated_not_overwritten()
    {
        using var directory = new TempFile();
        var path = Path.Combine(directory.Directory, "events.jsonl");
        File.WriteAllText(path, "previous run\n");
        File.WriteAllText(path + ".1", "the run before\n");

        using var writer = WriterProcess.StartHeld("-n", "10");
        await using var tracer = TracerProcess.Start("-p", $"{writer.Pid}", "-f", "1", "-q", "-o", path);
        await tracer.WaitUntilTracingAsync();
        writer.Release();
        Assert.Equal(0, await writer.WaitForExitAsync(Timeout));
        Assert.Equal(0, await tracer.StopAsync());

        Assert.Equal(Enumerable.Range(0, 10), File.ReadAllLines(path).Select(l => Parse(l).Seq));
        Assert.Equal("previous run\n", File.ReadAllText(path + ".1"));
        Assert.Equal("the run before\n", File.ReadAllText(path + ".2"));
    }

    [RootFact]
    public async Task A_full_disk_costs_counted_events_and_writing_resumes_when_space_returns()
    {
        const int before = 2000, after = 1000;
        await using var disk = await Tmpfs.MountAsync(kilobytes: 256);
        var filler = disk.Fill(freeBytes: 24 * 1024);
        var path = Path.Combine(disk.Directory, "events.jsonl");
        var metricsPort = FreePort.Get();

        using var first = WriterProcess.StartHeld("-n", $"{before}");
        using var second = WriterProcess.StartHeld("-n", $"{after}");
        await using var tracer = TracerProcess.Start("-p", $"{first.Pid}", "-p", $"{second.Pid}", "-f", "1",
            "-o", path, "--metrics-port", $"{metricsPort}", "--metrics-address", "127.0.0.1");
        await tracer.WaitUntilTracingAsync();

        first.Release();
        Assert.Equal(0, await first.WaitForExitAsync(Timeout));
        await tracer.WaitForEventsAsync(_ => true, before, Timeout);
        var full = await MetricsPage.WaitForAsync(metricsPort, page =>
            page["write_tracer_events_delivered_total{stage=\"file\"}"] + page["write_tracer_events_dropped_total{stage=\"file\"}"] == before,
            Timeout);
        Assert.True(full["write_tracer_events_dropped_total{stage=\"file\"}"] > 0, "the disk never filled up");
        await tracer.WaitForStderrAsync("file sink: cannot write to", Timeout);
        // A failed write leaves no partial record behind, even while the disk stays full.
        var whileFull = File.ReadAllText(path);
        Assert.True(whileFull.Length == 0 || whileFull.EndsWith('\n'), "the file ends in a torn record");
        Assert.Equal(full["write_tracer_events_delivered_total{stage=\"file\"}"], whileFull.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Parse).Count());

        File.Delete(filler);
        second.Release();
        Assert.Equal(0, await second.WaitForExitAsync(Timeout));
        await tracer.WaitForEventsAsync(_ => true, before + after, Timeout);
        Assert.Equal(0, await tracer.StopAsync());

        var summary = ExitSummary.Parse(tracer.Stderr);
        Assert.Equal(before + after, summary.Captured);
        Assert.Equal(0, summary.Dropped["stdout"]);
        Assert.Equal(full["write_tracer_events_dropped_total{stage=\"file\"}"], summary.Dropped["file"]);

        // Every line in the file is a whole event (no torn record), each once; every event after the space returned is there.
        var lines = File.ReadAllLines(path).Select(Parse).ToList();
        Assert.Equal((long)(before + after), lines.Count + summary.Dropped["file"]);
        Assert.Equal(lines.Count, lines.Distinct().Count());
        Assert.Equal(Enumerable.Range(0, after), lines.Where(l => l.Pid == second.Pid).Select(l => l.Seq));
        Assert.Contains("file sink: delivering again", tracer.Stderr);
    }

    [RootFact]
    public async Task A_path_that_cannot_be_written_is_a_one_line_start_up_error()
    {
        using var writer = WriterProcess.StartHeld("-n", "1");
        await using var tracer = TracerProcess.Start("-p", $"{writer.Pid}", "-o", "/nonexistent-directory/events.jsonl");
        Assert.Equal(1, await tracer.WaitForExitAsync(Timeout));
        Assert.Equal("write-tracer: --file-output: the directory '/nonexistent-directory' does not exist\n", tracer.Stderr);
    }

    private static WriterLine Parse(string line)
    {
        using var document = JsonDocument.Parse(line);
        Assert.True(WriterLine.TryParse(document.RootElement, out var parsed), line);
        return parsed;
    }
}
