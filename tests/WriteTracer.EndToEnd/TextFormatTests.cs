using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd;

/// <summary>--format text: one strace-like line per write on stdout and in the file, exact bytes escaped; Loki keeps JSON.</summary>
public sealed partial class TextFormatTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [RootFact]
    public async Task Every_binary_write_is_one_line_with_its_exact_escaped_bytes()
    {
        const int lines = 100;
        using var writer = WriterProcess.StartHeld("-b", "-n", $"{lines}");
        await using var tracer = TracerProcess.Start("--format", "text", "-f", "1", "-p", $"{writer.Pid}");
        await tracer.TraceToCompletionAsync(writer, Timeout);

        var pid = writer.Pid;
        var expected = Enumerable.Range(0, lines).Select(seq =>
        {
            var payload = new WriterLine(pid, pid, seq).BinaryPayload();
            return $"writer[{pid}/{pid}] fd=1 {payload.Length} \"\\xff\\xfe\\x00\\x80pid={pid} tid={pid} seq={seq}\\n\"";
        });
        Assert.Equal(expected, tracer.StdoutLines.Select(WithoutTime));
    }

    [RootFact]
    public async Task Multi_line_and_special_bytes_stay_on_one_line_escaped_exactly()
    {
        const string data = "first line\nsecond\tcolumn \"quoted\" back\\slash\r\n\u001b[31mred\u001b[0m\u007f é 日本 🎉 zero\u200Bwidth\n\nlast";
        // One write(2) of exactly these bytes: printf's stdout is a file, so stdio writes it out once, at exit.
        await using var tracer = TracerProcess.Start("--format", "text", "-f", "1",
            "--", "/bin/sh", "-c", "exec printf '%s' \"$1\" > /dev/null", "sh", data);
        Assert.Equal(0, await tracer.WaitForExitAsync(Timeout));

        var line = WithoutTime(Assert.Single(tracer.StdoutLines));
        var pid = Regex.Match(line, @"^printf\[(\d+)/").Groups[1].Value;
        Assert.Equal(
            $"printf[{pid}/{pid}] fd=1 {Encoding.UTF8.GetByteCount(data)} " +
            """
            "first line\nsecond\tcolumn \"quoted\" back\\slash\r\n\x1b[31mred\x1b[0m\x7f é 日本 🎉 zero\xe2\x80\x8bwidth\n\nlast"
            """,
            line);
    }

    [RootFact]
    public async Task The_file_gets_the_same_text_lines_as_stdout_with_truncation_marked()
    {
        const int lines = 20, size = 300, capture = 100;
        using var output = new TempFile();
        using var writer = WriterProcess.StartHeld("-s", $"{size}", "-n", $"{lines}");
        await using var tracer = TracerProcess.Start("--format", "text", "--capture-bytes", $"{capture}", "-f", "1",
            "-o", output.Path, "-p", $"{writer.Pid}");
        await tracer.TraceToCompletionAsync(writer, Timeout);

        var pid = writer.Pid;
        var expected = Enumerable.Range(0, lines).Select(seq =>
            $"writer[{pid}/{pid}] fd=1 {size} \"{Encoding.ASCII.GetString(new WriterLine(pid, pid, seq).Payload(size), 0, capture)}\"...");
        var file = File.ReadAllLines(output.Path);
        Assert.Equal(expected, file.Select(WithoutTime));
        Assert.Equal(tracer.StdoutLines, file);
    }

    [RootFact]
    public async Task Loki_still_gets_json_of_the_same_events()
    {
        const int lines = 50;
        await using var loki = await LokiReceiver.StartAsync();
        using var writer = WriterProcess.StartHeld("-n", $"{lines}");
        await using var tracer = TracerProcess.Start("--format", "text", "-f", "1", "-l", loki.PushUrl, "-p", $"{writer.Pid}");
        await tracer.TraceToCompletionAsync(writer, Timeout);

        var pid = writer.Pid;
        var text = tracer.StdoutLines;
        Assert.Equal(
            Enumerable.Range(0, lines).Select(seq => $"writer[{pid}/{pid}] fd=1 {new WriterLine(pid, pid, seq).Text.Length} \"w pid={pid} tid={pid} seq={seq}\\n\""),
            text.Select(WithoutTime));
        var entries = loki.Entries;
        Assert.Equal(lines, entries.Count);
        for (var seq = 0; seq < lines; seq++)
        {
            var entry = entries.Single(e => WriterLine.TryParse(JsonDocument.Parse(e.Line).RootElement, out var line) && line.Seq == seq);
            Assert.Equal(pid, JsonDocument.Parse(entry.Line).RootElement.Int("pid"));
            // The same event: the text line's local time is the entry's time, cut to microseconds.
            var time = TimeZoneInfo.ConvertTimeFromUtc(DateTime.UnixEpoch.AddTicks(entry.UnixNanoseconds / 100), TimeZoneInfo.Local);
            Assert.StartsWith(time.ToString("HH:mm:ss.ffffff ", CultureInfo.InvariantCulture), text[seq]);
        }
        Assert.Equal(0, ExitSummary.Parse(tracer.Stderr).Dropped["loki"]);
    }

    /// <summary>The line after its timestamp (local time of day with microseconds), which it must start with.</summary>
    private static string WithoutTime(string line)
    {
        var match = TimePrefix().Match(line);
        Assert.True(match.Success, $"no timestamp at the start of: {line}");
        return line[match.Length..];
    }

    [GeneratedRegex(@"^\d{2}:\d{2}:\d{2}\.\d{6} ")]
    private static partial Regex TimePrefix();
}
