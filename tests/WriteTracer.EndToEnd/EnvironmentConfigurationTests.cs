using System.Text.Json;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd;

/// <summary>
/// The tracer configured by WRITE_TRACER_* variables, as the systemd unit's environment file
/// configures it, runs exactly as with the equivalent flags: the same rotated files holding
/// the same records, cut at the same size, and nothing on stdout.
/// </summary>
public sealed class EnvironmentConfigurationTests
{
    private const int Writes = 30, PerFile = 7, Backups = 2, Size = 64, Captured = 40;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [RootFact]
    public async Task Variables_configure_the_tracer_as_the_equivalent_flags_do()
    {
        var byFlags = await RunAsync(settings => (
            [.. settings.SelectMany(s => s.Value is null ? [s.Flag] : new[] { s.Flag, s.Value })], []));
        var byVariables = await RunAsync(settings => (
            [], settings.ToDictionary(s => s.Variable, s => s.Value ?? "yes")));

        Assert.Equal(Expected(), byFlags);
        Assert.Equal(byFlags, byVariables);
    }

    /// <summary>The settings of both runs: each as a flag (a null value for a switch) and as its variable.</summary>
    private static (string Flag, string Variable, string? Value)[] Settings(int pid, string path) =>
    [
        ("-p", "WRITE_TRACER_PID", $"{pid}"),
        ("-o", "WRITE_TRACER_FILE_OUTPUT", path),
        ("-n", "WRITE_TRACER_MAX_RECORDS_FILEOUTPUT", $"{PerFile}"),
        ("--max-backups", "WRITE_TRACER_MAX_BACKUPS", $"{Backups}"),
        ("--capture-bytes", "WRITE_TRACER_CAPTURE_BYTES", $"{Captured}"),
        ("-f", "WRITE_TRACER_FILE_DESCRIPTORS", "1"),
        ("--metrics-port", "WRITE_TRACER_METRICS_PORT", "0"),
        ("--tracking-interval", "WRITE_TRACER_TRACKING_INTERVAL", "0.2"),
        ("-q", "WRITE_TRACER_NO_STDOUT", null),
    ];

    /// <summary>
    /// Runs a writer of 64-byte payloads to fd 1 (its "done" line goes to fd 2) under a tracer
    /// configured so, and describes what it left: each file's records in order, then stdout and the summary.
    /// </summary>
    private static async Task<List<string>> RunAsync(
        Func<(string Flag, string Variable, string? Value)[], (string[] Args, Dictionary<string, string> Environment)> configure)
    {
        using var directory = new TempFile();
        var path = Path.Combine(directory.Directory, "events.jsonl");
        using var writer = WriterProcess.StartHeld("-n", $"{Writes}", "-s", $"{Size}");
        var (args, environment) = configure(Settings(writer.Pid, path));
        await using var tracer = TracerProcess.Start(Repository.Tracer, args, environment);
        await tracer.WaitUntilTracingAsync();
        writer.Release();
        Assert.Equal(0, await writer.WaitForExitAsync(Timeout));
        // Without a REST API the tracer stops by itself once its writer has exited, flushing the file.
        Assert.Equal(0, await tracer.WaitForExitAsync(Timeout));

        // Oldest first: PATH.2, PATH.1, PATH.
        var outcome = Directory.GetFiles(directory.Directory)
            .OrderByDescending(file => int.TryParse(Path.GetExtension(file).TrimStart('.'), out var generation) ? generation : 0)
            .SelectMany(file => File.ReadAllLines(file).Select(line => Describe(Path.GetFileName(file), writer.Pid, line)))
            .ToList();
        var summary = ExitSummary.Parse(tracer.Stderr);
        outcome.Add($"stdout: {tracer.StdoutLines.Count} lines; captured {summary.Captured}, file dropped {summary.Dropped["file"]}");
        return outcome;
    }

    private static string Describe(string file, int writerPid, string record)
    {
        var e = JsonDocument.Parse(record).RootElement;
        var data = e.DataBytes();
        Assert.True(WriterLine.TryParseBytes(data, out var line), $"not a writer payload: {record}");
        var exact = line.Pid == writerPid && line.Pid == e.Int("pid") && line.Tid == e.Int("tid")
            && data.AsSpan().SequenceEqual(line.Payload(Size).AsSpan(0, Math.Min(Size, Captured)));
        return $"{file}: seq={line.Seq} fd={e.Int("fd")} count={e.Int("count")} captured={data.Length} truncated={e.IsTruncated()} exact={exact}";
    }

    /// <summary>30 records rotated every 7, 2 backups: PATH.2 holds seq 14–20, PATH.1 21–27, PATH 28–29.</summary>
    private static List<string> Expected()
    {
        var current = Writes % PerFile;
        var files = Enumerable.Range(1, Backups).Reverse()
            .Select(generation => ($"events.jsonl.{generation}", Writes - current - generation * PerFile, PerFile))
            .Append(("events.jsonl", Writes - current, current));
        var records = files
            .SelectMany(f => Enumerable.Range(f.Item2, f.Item3).Select(seq =>
                $"{f.Item1}: seq={seq} fd=1 count={Size} captured={Captured} truncated=True exact=True"))
            .ToList();
        records.Add($"stdout: 0 lines; captured {Writes}, file dropped 0");
        return records;
    }
}
