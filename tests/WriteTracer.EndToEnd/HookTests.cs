using System.Text.Json;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd;

/// <summary>The write hooks: --capture-at exit (with write's result), --attach raw and --attach fentry.</summary>
public sealed class HookTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Each call of the family once on fd 9, between other syscalls (getppid, close), then a
    /// write that fails (EBADF). Python's os module makes exactly one syscall per call.
    /// </summary>
    private const string FamilyScript = """
        import os, sys
        os.dup2(os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 9)
        os.write(9, b"write\n")
        os.writev(9, [b"write", b"v\n"])
        os.getppid()
        os.pwrite(9, b"pwrite64\n", 100)
        os.pwritev(9, [b"pwrite", b"v\n"], 200)
        os.close(9)
        try:
            os.write(9, b"closed\n")
        except OSError:
            pass
        """;

    [RootFact]
    public async Task Capture_at_exit_reports_each_result_including_errors()
    {
        // /dev/full fails every write with ENOSPC; the writer gives up (exit 1) after the first.
        await using var full = TracerProcess.Start("--capture-at", "exit", "-f", "3", "--", Repository.Writer, "-n", "3", "-o", "/dev/full");
        Assert.Equal(1, await full.WaitForExitAsync(Timeout));
        var failed = Assert.Single(full.Events);
        Assert.Equal(-28, failed.Int("ret"));
        Assert.True(WriterLine.TryParse(failed, out var line));
        Assert.Equal(line.Text, failed.GetProperty("data").GetString());

        await using var ok = TracerProcess.Start("--capture-at", "exit", "-f", "1", "--", Repository.Writer, "-n", "50", "-s", "300");
        Assert.Equal(0, await ok.WaitForExitAsync(Timeout));
        Assert.Equal(50, ok.Events.Count);
        Assert.All(ok.Events, e =>
        {
            Assert.Equal(300, e.Int("ret"));
            Assert.True(WriterLine.TryParseBytes(e.DataBytes(), out var written));
            Assert.Equal(written.Payload(300).AsSpan(0, 256).ToArray(), e.DataBytes());
        });
    }

    [RootFact]
    public async Task Capture_at_entry_has_no_result_field()
    {
        await using var tracer = TracerProcess.Start("-f", "1", "--", Repository.Writer, "-n", "5");
        Assert.Equal(0, await tracer.WaitForExitAsync(Timeout));
        Assert.Equal(5, tracer.Events.Count);
        Assert.All(tracer.Events, e => Assert.False(e.TryGetProperty("ret", out _)));
    }

    /// <summary>fentry falls back to the tracepoint where the kernel refuses trampolines (it does on the test VMs).</summary>
    [RootTheory]
    [InlineData("fentry", "entry", "via (fentry|tracepoint);")]
    [InlineData("fentry", "exit", "via (fentry|tracepoint);")]
    [InlineData("raw", "entry", "via raw;")]
    [InlineData("raw", "exit", "via raw;")]
    public async Task Each_hook_captures_every_write_of_threads_and_children(string hook, string captureAt, string via)
    {
        const int threads = 2, lines = 500, children = 3;
        await using var tracer = TracerProcess.Start("--attach", hook, "--capture-at", captureAt, "-f", "1",
            "--", Repository.Writer, "-t", $"{threads}", "-n", $"{lines}", "-c", $"{children}");
        Assert.Equal(0, await tracer.WaitForExitAsync(Timeout));

        Assert.Matches(via, tracer.Stderr);
        var identities = tracer.Events.Select(e => Assert.IsType<WriterLine>(WriterLine.TryParse(e, out var l) ? l : null)).ToHashSet();
        Assert.Equal(threads * lines + children * lines, identities.Count);
        Assert.Equal(identities.Count, tracer.Events.Count);
        Assert.All(tracer.Events, e => Assert.Equal(captureAt == "exit", e.TryGetProperty("ret", out _)));
    }

    [RootTheory]
    [InlineData("info", 0)]
    [InlineData("debug", 1)]
    public async Task The_object_is_loaded_once_whatever_the_kernel_refuses_and_libbpf_keeps_its_levels(string level, int loads)
    {
        // fentry (refused by some kernels), BTF file identities and every syscall: what the kernel lacks is probed, not retried.
        await using var tracer = TracerProcess.Start("--log-level", level, "--attach", "fentry", "--resolve-fds",
            "--capture-at", "exit", "--syscalls", "all", "-f", "1", "--", Repository.Writer, "-n", "3");
        Assert.Equal(0, await tracer.WaitForExitAsync(Timeout));

        var libbpf = tracer.Stderr.Split('\n').Where(l => l.Contains(" libbpf: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(loads, libbpf.Count(l => l.Contains("libbpf: loading object '", StringComparison.Ordinal)));
        // libbpf's debug messages stay at debug (its warnings would be WRN: a load that succeeds has none).
        Assert.All(libbpf, l => Assert.Contains(" DBG libbpf: ", l));
        Assert.DoesNotContain("libbpf: libbpf:", tracer.Stderr);
        Assert.Equal(3, tracer.Events.Count(e => WriterLine.TryParse(e, out _)));
    }

    /// <summary>
    /// The raw tracepoints dispatch on the syscall number: the same events, field for field, as
    /// the tracepoints of each call, and none for the process's other syscalls.
    /// </summary>
    [RootTheory]
    [InlineData("entry")]
    [InlineData("exit")]
    public async Task Raw_tracepoint_reports_the_family_as_the_syscall_tracepoints_do(string captureAt)
    {
        var byHook = new Dictionary<string, List<string>>();
        foreach (var hook in new[] { "tracepoint", "raw" })
        {
            using var file = new TempFile();
            await using var tracer = TracerProcess.Start("--attach", hook, "--capture-at", captureAt, "--syscalls", "all",
                "-f", "9", "--", "python3", "-c", FamilyScript, file.Path);
            Assert.Equal(0, await tracer.WaitForExitAsync(Timeout));
            Assert.Contains($"via {hook};", tracer.Stderr);
            byHook[hook] = [.. tracer.Events.Select(WithoutTimeAndIds)];
        }

        Assert.Equal(byHook["tracepoint"], byHook["raw"]);
        var events = byHook["raw"].Select(e => JsonDocument.Parse(e).RootElement).ToList();
        Assert.Equal(["write", "writev", "pwrite64"], events.Take(3).Select(e => e.GetProperty("syscall").GetString()));
        Assert.Equal(["write\n", "writev\n", "pwrite64\n", "pwritev\n", "closed\n"], events.Select(e => e.GetProperty("data").GetString()));
        Assert.Equal(2, events[1].Int("iovcnt"));
        Assert.Equal(100, events[2].Int("offset"));
        Assert.Equal(200, events[3].Int("offset"));
        if (captureAt == "exit")
        {
            Assert.Equal([6, 7, 9, 8, -9], events.Select(e => e.Int("ret")));
        }
    }

    /// <summary>An event as JSON without what differs between two runs of the same script.</summary>
    private static string WithoutTimeAndIds(JsonElement e) =>
        JsonSerializer.Serialize(e.EnumerateObject()
            .Where(p => p.Name is not ("time" or "pid" or "tid" or "root_pid"))
            .ToDictionary(p => p.Name, p => p.Value));
}
