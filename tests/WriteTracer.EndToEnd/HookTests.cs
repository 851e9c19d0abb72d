using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd;

/// <summary>The write hooks: --capture-at exit (with write's result) and --attach fentry.</summary>
public sealed class HookTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

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

    [RootTheory]
    [InlineData("entry")]
    [InlineData("exit")]
    public async Task Fentry_captures_every_write_or_falls_back_to_the_tracepoint(string captureAt)
    {
        const int threads = 2, lines = 500, children = 3;
        await using var tracer = TracerProcess.Start("--attach", "fentry", "--capture-at", captureAt, "-f", "1",
            "--", Repository.Writer, "-t", $"{threads}", "-n", $"{lines}", "-c", $"{children}");
        Assert.Equal(0, await tracer.WaitForExitAsync(Timeout));

        Assert.Matches("via (fentry|tracepoint)", tracer.Stderr);
        var identities = tracer.Events.Select(e => Assert.IsType<WriterLine>(WriterLine.TryParse(e, out var l) ? l : null)).ToHashSet();
        Assert.Equal(threads * lines + children * lines, identities.Count);
        Assert.Equal(identities.Count, tracer.Events.Count);
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
}
