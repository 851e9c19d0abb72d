using System.Text.RegularExpressions;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd.Operations;

/// <summary>
/// write-tracer.service sets MemoryDenyWriteExecute=yes, which the Native AOT binary allows: it
/// compiles nothing at run time. systemd enforces it in one of two ways, and both are checked
/// while the tracer loads its program, traces a writer exactly and serves /metrics: the kernel's
/// own (PR_SET_MDWE, Linux 6.3+, refusing any mapping that gains execute permission), and the
/// seccomp filter older systemd (Debian 12's 252) installs instead, which refuses mmap with both
/// PROT_WRITE and PROT_EXEC, mprotect or pkey_mprotect with PROT_EXEC, and shmat with SHM_EXEC.
/// </summary>
public sealed partial class MemoryDenyWriteExecuteTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Sets PR_MDWE_REFUSE_EXEC_GAIN, which execve keeps, then execs its arguments.</summary>
    private const string UnderMdwe = """
        import ctypes, os, sys
        PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
        if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
            sys.exit("prctl(PR_SET_MDWE): " + os.strerror(ctypes.get_errno()))
        os.execv(sys.argv[1], sys.argv[1:])
        """;

    [RootFact]
    public async Task Under_the_kernels_memory_deny_write_execute_the_tracer_traces_exactly()
    {
        var (exitCode, _, stderr) = await Shell.ExecAsync("/usr/bin/python3", ["-c", UnderMdwe, "/usr/bin/python3", "-c",
            "import mmap; mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)"], Timeout);
        Assert.True(exitCode != 0 && stderr.Contains("PermissionError"), $"the wrapper does not deny W+X memory:\n{stderr}");

        await TraceAWriterAsync("/usr/bin/python3", ["-c", UnderMdwe, Repository.Tracer]);
    }

    [RootFact]
    public async Task The_tracer_asks_for_no_memory_the_seccomp_form_refuses()
    {
        using var log = new TempFile();
        await TraceAWriterAsync("strace", ["-f", "-qq", "-e", "trace=mmap,mprotect,pkey_mprotect,shmat", "-o", log.Path, Repository.Tracer]);

        var calls = File.ReadAllLines(log.Path);
        Assert.Contains(calls, c => c.Contains("mmap(") && c.Contains("PROT_EXEC")); // strace saw the libraries mapped
        Assert.DoesNotContain(calls, c => c.Contains("mmap(") && c.Contains("PROT_WRITE") && c.Contains("PROT_EXEC"));
        Assert.DoesNotContain(calls, c => MprotectCall().IsMatch(c) && c.Contains("PROT_EXEC"));
        Assert.DoesNotContain(calls, c => c.Contains("shmat(") && c.Contains("SHM_EXEC"));
    }

    /// <summary>Runs the tracer through launcher, with metrics, on a held writer's threads and children; asserts every line once.</summary>
    private static async Task TraceAWriterAsync(string launcher, string[] launcherArguments)
    {
        const int threads = 2, lines = 100, children = 1;
        var metricsPort = FreePort.Get();
        using var writer = WriterProcess.StartHeld("-t", $"{threads}", "-n", $"{lines}", "-c", $"{children}");
        // Metrics through the environment: an option would go among the launcher's own arguments.
        await using var tracer = TracerProcess.Start(launcher, [.. launcherArguments, "-p", $"{writer.Pid}", "-f", "1"],
            new Dictionary<string, string> { ["WRITE_TRACER_METRICS_PORT"] = $"{metricsPort}", ["WRITE_TRACER_METRICS_ADDRESS"] = "127.0.0.1" });
        await tracer.WaitUntilTracingAsync();
        Assert.Equal(1, (await MetricsPage.ScrapeAsync(metricsPort))["write_tracer_registered_processes"]);
        writer.Release();
        Assert.Equal(0, await writer.WaitForExitAsync(Timeout));
        // Without a REST API the tracer stops by itself once its writers have exited.
        Assert.Equal(0, await tracer.WaitForExitAsync(Timeout));

        WriterLine.AssertEveryLineOnce(tracer.Events, threads + children, lines);
        Assert.Contains("dropped: kernel 0, stdout 0", tracer.Stderr);
    }

    [GeneratedRegex(@"\b(pkey_)?mprotect\(")]
    private static partial Regex MprotectCall();
}
