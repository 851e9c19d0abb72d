using System.Text;
using System.Text.Json;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd;

/// <summary>--format raw: the written bytes exactly, on stdout and in the rotated file; Loki keeps JSON.</summary>
public sealed class RawFormatTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private const int Writes = 50, WriteSize = 300, RecordsPerFile = 7;

    [RootTheory]
    [InlineData("text")]
    [InlineData("binary")]
    public async Task Stdout_and_the_rotated_file_hold_exactly_the_bytes_written(string kind)
    {
        using var directory = new TempFile();
        var payload = Payload(kind);
        var input = Path.Combine(directory.Directory, "input");
        File.WriteAllBytes(input, payload);

        // dd writes the input in writes of WriteSize bytes to its stdout, /dev/null.
        var (exitCode, _, stderr) = await Shell.RunAsync(
            $"""
            cd {directory.Directory}
            "$TRACER" --metrics-port 0 --format raw -f 1 --capture-bytes {WriteSize} -o raw -n {RecordsPerFile} --max-backups 0 \
                -- /bin/sh -c 'exec dd if="$1" bs={WriteSize} status=none > /dev/null' sh input > stdout
            """, Timeout);

        Assert.True(exitCode == 0, stderr);
        Assert.Equal(Writes, ExitSummary.Parse(stderr).Captured);
        Assert.Equal(payload, File.ReadAllBytes(Path.Combine(directory.Directory, "stdout")));
        // raw.N is the oldest file, raw the newest; every full file holds its records whole.
        var backups = Writes / RecordsPerFile;
        var files = Enumerable.Range(1, backups).Reverse().Select(n => $"raw.{n}").Append("raw")
            .Select(name => File.ReadAllBytes(Path.Combine(directory.Directory, name))).ToList();
        Assert.False(File.Exists(Path.Combine(directory.Directory, $"raw.{backups + 1}")));
        Assert.All(files[..^1], file => Assert.Equal(RecordsPerFile * WriteSize, file.Length));
        Assert.Equal(payload, files.SelectMany(file => file).ToArray());
    }

    [RootFact]
    public async Task Loki_still_gets_json_of_the_same_writes()
    {
        const int lines = 20;
        await using var loki = await LokiReceiver.StartAsync();
        using var writer = WriterProcess.StartHeld("-n", $"{lines}");
        await using var tracer = TracerProcess.Start("--format", "raw", "-f", "1", "-l", loki.PushUrl, "-p", $"{writer.Pid}");
        await tracer.TraceToCompletionAsync(writer, Timeout);

        var expected = Enumerable.Range(0, lines).Select(seq => new WriterLine(writer.Pid, writer.Pid, seq).Text).ToList();
        Assert.Equal(string.Concat(expected), string.Concat(tracer.StdoutLines.Select(line => line + "\n")));
        var entries = loki.Entries.Select(e => JsonDocument.Parse(e.Line).RootElement).ToList();
        Assert.Equal(expected, entries.Select(e => e.GetProperty("data").GetString()));
        Assert.All(entries, e => Assert.Equal(writer.Pid, e.Int("pid")));
    }

    /// <summary>Writes × WriteSize bytes: lines of text, or every byte value (NUL, invalid UTF-8, newlines) at random.</summary>
    private static byte[] Payload(string kind)
    {
        if (kind == "binary")
        {
            var bytes = new byte[Writes * WriteSize];
            new Random(14).NextBytes(bytes);
            return bytes;
        }
        var text = new StringBuilder();
        for (var line = 0; text.Length < Writes * WriteSize; line++)
        {
            text.Append($"line {line}: the quick brown fox jumps over the lazy dog\n");
        }
        return Encoding.ASCII.GetBytes(text.ToString(0, Writes * WriteSize));
    }
}
