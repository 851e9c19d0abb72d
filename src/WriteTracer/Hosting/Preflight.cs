using System.Globalization;
using System.Runtime.InteropServices;
using Serilog;
using WriteTracer.Native;

namespace WriteTracer.Hosting;

/// <summary>Checks what the kernel side needs before loading it, so failures read as causes, not errnos.</summary>
internal static class Preflight
{
    private const string TraceFs = "/sys/kernel/tracing";
    private const string DebugFsTracing = "/sys/kernel/debug/tracing";
    private const string KernelBtf = "/sys/kernel/btf/vmlinux";
    private static readonly Version MinimumKernel = new(5, 8);
    private const int CapSysAdmin = 21, CapPerfmon = 38, CapBpf = 39;

    public static void Run()
    {
        CheckKernelVersion();
        CheckPrivileges();
        if (!File.Exists(KernelBtf))
        {
            throw new StartupException(
                $"kernel BTF ({KernelBtf}) is missing: write-tracer needs a kernel built with CONFIG_DEBUG_INFO_BTF=y");
        }
        EnsureTraceFs();
    }

    private static void CheckKernelVersion()
    {
        var release = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        var numeric = new string([.. release.TakeWhile(c => char.IsDigit(c) || c == '.')]);
        if (Version.TryParse(numeric.Count(c => c == '.') == 0 ? numeric + ".0" : numeric, out var version)
            && version < MinimumKernel)
        {
            throw new StartupException($"kernel {release} is too old: write-tracer needs Linux {MinimumKernel} or newer (BPF ring buffer)");
        }
    }

    private static void CheckPrivileges()
    {
        if (Environment.IsPrivilegedProcess)
        {
            return;
        }
        var effective = ReadEffectiveCapabilities();
        bool Has(int capability) => (effective & (1UL << capability)) != 0;
        if (!(Has(CapBpf) && Has(CapPerfmon)) && !Has(CapSysAdmin))
        {
            throw new StartupException("write-tracer needs root, or CAP_BPF and CAP_PERFMON (e.g. sudo write-tracer …)");
        }
    }

    private static ulong ReadEffectiveCapabilities()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("CapEff:", StringComparison.Ordinal)
                && ulong.TryParse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var caps))
            {
                return caps;
            }
        }
        return 0;
    }

    /// <summary>
    /// Syscall tracepoints are found through tracefs. libbpf looks under debugfs first,
    /// then /sys/kernel/tracing; mount tracefs at the latter when neither is there.
    /// </summary>
    private static void EnsureTraceFs()
    {
        if (Directory.Exists(Path.Combine(DebugFsTracing, "events")) || Directory.Exists(Path.Combine(TraceFs, "events")))
        {
            return;
        }
        if (IsUnreadable(TraceFs))
        {
            // Mounted, but root's with mode 0700: an unprivileged user with CAP_BPF and CAP_PERFMON alone cannot look in.
            throw new StartupException(
                $"{TraceFs} is not readable: besides CAP_BPF and CAP_PERFMON, write-tracer needs root or CAP_DAC_READ_SEARCH");
        }
        if (Interop.Libc.Mount("tracefs", TraceFs, "tracefs", 0, 0) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new StartupException(
                $"tracefs is not mounted and mounting it at {TraceFs} failed: {Marshal.GetPInvokeErrorMessage(errno)} " +
                $"(mount it with: mount -t tracefs tracefs {TraceFs})");
        }
        Log.Information("mounted tracefs at {Path}", TraceFs);
    }

    private static bool IsUnreadable(string directory)
    {
        try
        {
            _ = Directory.EnumerateFileSystemEntries(directory).Any();
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
    }
}
