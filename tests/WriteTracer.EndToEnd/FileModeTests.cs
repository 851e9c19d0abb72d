using System.Runtime.Versioning;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd;

/// <summary>
/// -o files hold whatever the traced processes write: they and every rotated backup are
/// created mode 0600 whatever the umask, or exactly --file-mode.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class FileModeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [RootTheory]
    [InlineData(null, 0b110_000_000)]
    [InlineData("0640", 0b110_100_000)]
    public async Task The_file_and_every_backup_have_the_mode_under_umask_022(string? fileMode, int expected)
    {
        using var directory = new TempFile();
        var path = Path.Combine(directory.Directory, "events.jsonl");
        // Left by an earlier run under the usual umask: it becomes a backup with the mode too.
        File.WriteAllText(path, "earlier run\n");
        File.SetUnixFileMode(path, (UnixFileMode)0b110_100_100);
        using var writer = WriterProcess.StartHeld("-n", "25");
        string[] modeOption = fileMode is null ? [] : ["--file-mode", fileMode];
        await using var tracer = TracerProcess.Start("/bin/bash",
            ["-c", "umask 022; exec \"$0\" \"$@\"", Repository.Tracer, "-p", $"{writer.Pid}", "-f", "1", "-q", "-o", path, "-n", "10", .. modeOption],
            new Dictionary<string, string> { ["WRITE_TRACER_METRICS_PORT"] = "0" });

        await tracer.TraceToCompletionAsync(writer, Timeout);

        var files = Directory.GetFiles(directory.Directory).Order().ToList();
        Assert.Equal([path, path + ".1", path + ".2", path + ".3"], files);
        Assert.All(files, file => Assert.Equal((UnixFileMode)expected, File.GetUnixFileMode(file)));
        Assert.Equal(["earlier run"], File.ReadAllLines(path + ".3"));
    }
}
