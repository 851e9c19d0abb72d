using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using WriteTracer.Cli;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd.Operations;

/// <summary>
/// `make install` and `make uninstall` into a staging DESTDIR, run from the repository root as an
/// administrator would: the installed tracer is bin/write-tracer, compiled to native code, and traces
/// exactly on a host without .NET; the unit and the environment file land beside it, and the
/// configuration survives a second install and the uninstall.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class InstallTests
{
    private static readonly TimeSpan MakeTimeout = TimeSpan.FromMinutes(20);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [RootFact]
    public async Task Install_stages_a_tracer_that_traces_exactly_and_uninstall_keeps_the_configuration()
    {
        using var staging = new TempFile();
        var root = staging.Directory;
        var tracer = root + "/usr/local/bin/write-tracer";
        var unit = root + "/etc/systemd/system/write-tracer.service";
        var environmentFile = root + "/etc/default/write-tracer";

        var install = await MakeAsync("install", $"DESTDIR={root}");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
            | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute, File.GetUnixFileMode(tracer));
        Assert.Equal(RepositoryFile("write-tracer.service"), File.ReadAllText(unit));
        Assert.Equal(RepositoryFile("utilities/systemd/write-tracer.env"), File.ReadAllText(environmentFile));
        Assert.DoesNotContain("daemon-reload", install);
        // The binary every other end-to-end test runs, so what they test is what is installed.
        Assert.Equal(File.ReadAllBytes(Repository.Tracer), File.ReadAllBytes(tracer));

        await AssertVersionAsync(tracer);
        await AssertTracesExactlyAsync(tracer);

        // Reinstalled elsewhere: the unit follows PREFIX, the edited configuration stays as it is.
        File.AppendAllText(environmentFile, "WRITE_TRACER_CAPTURE_BYTES=64\n");
        var edited = File.ReadAllText(environmentFile);
        var reinstall = await MakeAsync("install", $"DESTDIR={root}", "PREFIX=/opt/write-tracer");
        Assert.Contains($"kept {environmentFile}", reinstall);
        Assert.Equal(edited, File.ReadAllText(environmentFile));
        Assert.True(File.Exists(root + "/opt/write-tracer/bin/write-tracer"));
        Assert.Contains("\nExecStart=/opt/write-tracer/bin/write-tracer\n", File.ReadAllText(unit));

        var uninstall = await MakeAsync("uninstall", $"DESTDIR={root}", "PREFIX=/opt/write-tracer");
        Assert.Contains($"kept {environmentFile}", uninstall);
        Assert.False(File.Exists(root + "/opt/write-tracer/bin/write-tracer"));
        Assert.False(File.Exists(unit));
        Assert.Equal(edited, File.ReadAllText(environmentFile));
        await MakeAsync("uninstall", $"DESTDIR={root}");
        Assert.False(File.Exists(tracer));
    }

    /// <summary>Runs make in the repository root and returns what it printed; it must succeed.</summary>
    private static async Task<string> MakeAsync(params string[] arguments)
    {
        // MAKEFLAGS cleared: under `make test` the outer make's flags would leak into this one.
        var (exitCode, stdout, stderr) = await Shell.ExecAsync("make", ["-C", Repository.Root, "--no-print-directory", .. arguments],
            MakeTimeout, new Dictionary<string, string> { ["MAKEFLAGS"] = "" });
        Assert.True(exitCode == 0, $"make {string.Join(' ', arguments)} failed ({exitCode}):\n{stdout}{stderr}");
        return stdout;
    }

    private static string RepositoryFile(string path) => File.ReadAllText(Path.Combine(Repository.Root, path));

    /// <summary>
    /// The .NET installation the tests run on, hidden from a program run under <see cref="WithoutDotNet"/>:
    /// a framework-dependent build would not start there.
    /// </summary>
    private static readonly string DotNetRoot = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));

    /// <summary>
    /// The program and its arguments run in a mount namespace of their own where an empty tmpfs
    /// covers <see cref="DotNetRoot"/>: a host without .NET. unshare and the shell exec it, so it keeps their pid.
    /// </summary>
    private static string[] WithoutDotNet(string program, params string[] arguments) =>
        ["--mount", "--propagation", "private", "/bin/sh", "-c", $"mount -t tmpfs tmpfs '{DotNetRoot}' && exec \"$0\" \"$@\"", program, .. arguments];

    private static async Task AssertVersionAsync(string tracer)
    {
        var (exitCode, stdout, _) = await Shell.ExecAsync("unshare", WithoutDotNet(tracer, "--version"), Timeout);
        var version = typeof(CommandLine).Assembly.GetName().Version!;
        Assert.Equal(0, exitCode);
        Assert.StartsWith($"{version.Major}.{version.Minor}.{version.Build}", stdout);
    }

    /// <summary>
    /// Every write of two threads, two children and a grandchild, exactly once, bytes intact, by a
    /// tracer that has neither the .NET runtime nor its JIT loaded (both are in its memory map when they are).
    /// </summary>
    private static async Task AssertTracesExactlyAsync(string binary)
    {
        const int threads = 2, lines = 500, children = 2;
        using var writer = WriterProcess.StartHeld("-t", $"{threads}", "-n", $"{lines}", "-c", $"{children}", "-g");
        await using var tracer = TracerProcess.Start("unshare", WithoutDotNet(binary, "-p", $"{writer.Pid}", "-f", "1", "--metrics-port", "0"));
        await tracer.WaitUntilTracingAsync();
        var mapped = File.ReadAllLines($"/proc/{tracer.Pid}/maps").Select(line => Path.GetFileName(line.Split(' ')[^1])).ToHashSet();
        Assert.Contains(Path.GetFileName(binary), mapped);
        Assert.DoesNotContain("libcoreclr.so", mapped);
        Assert.DoesNotContain("libclrjit.so", mapped);
        writer.Release();
        Assert.Equal(0, await writer.WaitForExitAsync(Timeout));
        // Without a REST API the tracer stops by itself once its writers have exited.
        Assert.Equal(0, await tracer.WaitForExitAsync(Timeout));

        WriterLine.AssertEveryLineOnce(tracer.Events, threads + children + 1, lines);
        Assert.Contains("dropped: kernel 0, stdout 0", tracer.Stderr);
    }
}
