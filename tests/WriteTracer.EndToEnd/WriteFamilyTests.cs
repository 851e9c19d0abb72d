using System.Text.Json;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd;

/// <summary>
/// --syscalls: writev, pwrite64, pwritev and pwritev2 beside write, checked against strace as the
/// reference on one deterministic workload (Workloads/write_family.py).
/// </summary>
public sealed class WriteFamilyTests
{
    private const int CaptureBytes = 16384;
    private const int Writers = 7;      // 4 threads, the main thread, 2 forked children
    private const int CallsPerWriter = 14;
    private const int NullFd = 40, FileFd = 41;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private static readonly string Python = "/usr/bin/python3";
    private static readonly string Workload = Path.Combine(Repository.Root, "tests", "WriteTracer.EndToEnd", "Workloads", "write_family.py");

    [RootTheory]
    [InlineData("entry")]
    [InlineData("exit")]
    public async Task Every_call_of_the_family_is_the_call_strace_sees(string captureAt)
    {
        var reference = await StraceAsync();
        Assert.Equal(Writers * CallsPerWriter, reference.Count);
        Assert.All(reference, c => Assert.False(c.Truncated, "strace cut a buffer: raise -s"));
        Assert.Equal(["pwrite64", "pwritev", "pwritev2", "write", "writev"], reference.Select(c => c.Syscall).Distinct().Order());
        Assert.Contains(reference, c => c.Iovcnt == 1024 && c.Count > CaptureBytes);
        Assert.Contains(reference, c => c.Syscall == "pwritev2" && c.Offset == -1);

        using var file = new TempFile();
        var (events, stderr) = await TraceAsync(file.Path,
            "--syscalls", "all", "--capture-bytes", $"{CaptureBytes}", "--capture-at", captureAt);

        var withResult = captureAt == "exit";
        Assert.Equal(reference.Select(c => Key(c, withResult)).Order(), events.Select(e => Key(e, withResult)).Order());
        Assert.Equal(Writers, events.Select(e => e.Int("tid")).Distinct().Count());
        foreach (var e in events)
        {
            var syscall = e.GetProperty("syscall").GetString()!;
            Assert.Equal(syscall is "writev" or "pwritev" or "pwritev2", e.TryGetProperty("iovcnt", out _));
            Assert.Equal(syscall is "pwrite64" or "pwritev" or "pwritev2", e.TryGetProperty("offset", out _));
            Assert.Equal(e.GetProperty("count").GetUInt64() > CaptureBytes, e.IsTruncated());
        }
        Assert.Contains("dropped: kernel 0, stdout 0; unreadable buffers 0", stderr);
    }

    [RootFact]
    public async Task Every_syscall_names_its_file_with_resolve_fds_and_is_counted_by_syscall()
    {
        // Held open until every event is in: a file is named through its writer's /proc entry while that lives.
        using var file = new TempFile();
        using var workload = WriterProcess.StartHeldProgram(Python, ["-B", "-I", "-S", Workload, file.Path, "--held"]);
        var metricsPort = FreePort.Get();
        await using var tracer = TracerProcess.Start("--syscalls", "all", "--resolve-fds", "-p", $"{workload.Pid}",
            "--metrics-port", $"{metricsPort}", "--metrics-address", "127.0.0.1");
        await tracer.WaitUntilTracingAsync();
        workload.Release();
        var events = await tracer.WaitForEventsAsync(_ => true, Writers * CallsPerWriter, Timeout);
        var page = await MetricsPage.ScrapeAsync(metricsPort);
        workload.CloseInput();
        Assert.Equal(0, await workload.WaitForExitAsync(Timeout));
        Assert.Equal(0, await tracer.WaitForExitAsync(Timeout));

        Assert.Equal(Writers * CallsPerWriter, tracer.Events.Count);
        Assert.Equal(["pwrite64", "pwritev", "pwritev2", "write", "writev"], events.Select(e => e.GetProperty("syscall").GetString()).Distinct().Order());
        Assert.All(tracer.Events, e =>
            Assert.Equal(e.Int("fd") == NullFd ? "/dev/null" : file.Path, e.GetProperty("fd_path").GetString()));
        // Per writer: 4 write, 4 writev, 2 pwrite64, 2 pwritev, 2 pwritev2.
        foreach (var (syscall, calls) in new[] { ("write", 4), ("writev", 4), ("pwrite64", 2), ("pwritev", 2), ("pwritev2", 2) })
        {
            Assert.Equal(Writers * calls, page[$"write_tracer_syscalls_total{{syscall=\"{syscall}\"}}"]);
        }
        Assert.Equal(Writers * CallsPerWriter, page["write_tracer_write_calls_total"]);
    }

    [RootFact]
    public async Task By_default_only_write_is_traced_and_events_do_not_name_it()
    {
        var reference = await StraceAsync();

        using var file = new TempFile();
        var (events, _) = await TraceAsync(file.Path, "--capture-bytes", $"{CaptureBytes}");

        Assert.Equal(reference.Where(c => c.Syscall == "write").Select(c => Key(c, withResult: false)).Order(),
            events.Select(e => Key(e, withResult: false, syscall: "write")).Order());
        Assert.All(events, e => Assert.False(e.TryGetProperty("syscall", out _)));
    }

    [RootFact]
    public async Task The_fd_filter_applies_to_every_syscall()
    {
        var reference = await StraceAsync();

        using var file = new TempFile();
        var (events, _) = await TraceAsync(file.Path, "--syscalls", "all", "--capture-bytes", $"{CaptureBytes}", "-f", $"{FileFd}");

        var expected = reference.Where(c => c.Fd == FileFd).Select(c => Key(c, withResult: false)).Order().ToList();
        Assert.Equal(["pwrite64", "pwritev", "pwritev2"], reference.Where(c => c.Fd == FileFd).Select(c => c.Syscall).Distinct().Order());
        Assert.Equal(expected, events.Select(e => Key(e, withResult: false)).Order());
    }

    [RootFact]
    public async Task A_subset_of_the_family_is_exactly_that_subset()
    {
        var reference = await StraceAsync();

        using var file = new TempFile();
        var (events, _) = await TraceAsync(file.Path, "--syscalls", "pwritev2,writev", "--capture-bytes", $"{CaptureBytes}");

        Assert.Equal(reference.Where(c => c.Syscall is "writev" or "pwritev2").Select(c => Key(c, withResult: false)).Order(),
            events.Select(e => Key(e, withResult: false)).Order());
    }

    [RootTheory]
    [InlineData("entry")]
    [InlineData("exit")]
    public async Task An_unreadable_buffer_or_iovec_array_is_an_event_without_data_and_counted(string captureAt)
    {
        // /dev/null never reads what it is given: writev succeeds with a buffer at address 8, and fails (EFAULT) with its array there.
        const string script = """
            import ctypes, os
            libc = ctypes.CDLL(None, use_errno=True)
            class Iovec(ctypes.Structure):
                _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]
            fd = os.open("/dev/null", os.O_WRONLY)
            good = ctypes.create_string_buffer(b"ok", 2)
            libc.writev(fd, (Iovec * 2)(Iovec(ctypes.addressof(good), 2), Iovec(8, 5)), 2)
            libc.writev(fd, ctypes.c_void_p(8), 3)
            """;
        await using var tracer = TracerProcess.Start("--syscalls", "all", "--capture-at", captureAt, "-f", "3",
            "--", Python, "-B", "-I", "-S", "-c", script);
        Assert.Equal(0, await tracer.WaitForExitAsync(Timeout));

        // The second array is unreadable: nothing of it can be summed.
        Assert.Equal([(7UL, 2), (0UL, 3)], tracer.Events.Select(e => (e.GetProperty("count").GetUInt64(), e.Int("iovcnt"))));
        if (captureAt == "exit")
        {
            Assert.Equal([7L, -14L], tracer.Events.Select(e => e.GetProperty("ret").GetInt64()));
        }
        Assert.All(tracer.Events, e =>
        {
            Assert.True(e.GetProperty("capture_failed").GetBoolean());
            Assert.Empty(e.DataBytes());
        });
        Assert.Contains("unreadable buffers 2", tracer.Stderr);
    }

    [RootFact]
    public async Task The_text_format_names_each_call_that_is_not_write()
    {
        const string script = """
            import os
            os.dup2(os.open("/dev/null", os.O_WRONLY), 40)
            os.write(40, b"w\n")
            os.writev(40, [b"a", b"b\n"])
            os.pwrite(40, b"pw\n", 7)
            """;
        await using var tracer = TracerProcess.Start("--syscalls", "all", "--format", "text", "-f", $"{NullFd}",
            "--", Python, "-B", "-I", "-S", "-c", script);
        Assert.Equal(0, await tracer.WaitForExitAsync(Timeout));

        Assert.Equal(["fd=40 2 \"w\\n\"", "writev fd=40 3 \"ab\\n\" iov=2", "pwrite64 fd=40 3 \"pw\\n\" off=7"],
            tracer.StdoutLines.Select(line => line[(line.IndexOf("] ", StringComparison.Ordinal) + 2)..]));
    }

    /// <summary>The workload under strace: each call of the family, bytes and all.</summary>
    private static async Task<IReadOnlyList<StraceCall>> StraceAsync()
    {
        using var output = new TempFile();
        using var file = new TempFile();
        var run = await Shell.ExecAsync("strace",
            ["-f", "-qq", "-e", "trace=write,writev,pwrite64,pwritev,pwritev2", "-e", "signal=none", "-xx", "-s", "65536",
             "-o", output.Path, Python, "-B", "-I", "-S", Workload, file.Path], Timeout);
        Assert.True(run.ExitCode == 0, run.Stderr);
        return StraceLog.Parse(await File.ReadAllTextAsync(output.Path));
    }

    /// <summary>The workload launched by the tracer: its events and the tracer's stderr.</summary>
    private static async Task<(IReadOnlyList<JsonElement> Events, string Stderr)> TraceAsync(string file, params string[] options)
    {
        await using var tracer = TracerProcess.Start([.. options, "--", Python, "-B", "-I", "-S", Workload, file]);
        Assert.Equal(0, await tracer.WaitForExitAsync(Timeout));
        return (tracer.Events, tracer.Stderr);
    }

    /// <summary>What both see of a call, the pids aside (they differ between runs); its bytes cut to the capture.</summary>
    private static string Key(StraceCall c, bool withResult) =>
        Key(c.Syscall, c.Fd, c.Count, c.Offset, c.Iovcnt, c.Bytes!.AsSpan(0, Math.Min(c.Bytes!.Length, CaptureBytes)),
            withResult ? c.Result : null);

    private static string Key(JsonElement e, bool withResult, string? syscall = null) =>
        Key(syscall ?? e.GetProperty("syscall").GetString()!, e.Int("fd"), e.GetProperty("count").GetUInt64(),
            e.TryGetProperty("offset", out var offset) ? offset.GetInt64() : null,
            e.TryGetProperty("iovcnt", out var iovcnt) ? iovcnt.GetInt32() : null,
            e.DataBytes(), withResult ? e.GetProperty("ret").GetInt64() : null);

    private static string Key(string syscall, int fd, ulong count, long? offset, int? iovcnt, ReadOnlySpan<byte> bytes, long? result) =>
        $"{syscall} fd={fd} count={count} offset={offset} iovcnt={iovcnt} ret={result} bytes={Convert.ToHexString(bytes)}";
}
