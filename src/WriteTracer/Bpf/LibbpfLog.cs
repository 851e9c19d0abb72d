using System.Runtime.InteropServices;
using Serilog;
using Serilog.Events;
using WriteTracer.Native;

namespace WriteTracer.Bpf;

/// <summary>Routes libbpf's own messages (verifier log included) to the diagnostics log, at their own level.</summary>
internal static unsafe class LibbpfLog
{
    private static int s_installed;

    public static void Install()
    {
        if (Interlocked.Exchange(ref s_installed, 1) == 0)
        {
            Interop.Libbpf.SetPrint(&Print);
        }
    }

    /// <summary>libbpf's print level as Serilog's: warnings (a failed load's verifier log among them) stay warnings.</summary>
    public static LogEventLevel LevelOf(int libbpfLevel) => libbpfLevel switch
    {
        Interop.Libbpf.LIBBPF_WARN => LogEventLevel.Warning,
        Interop.Libbpf.LIBBPF_INFO => LogEventLevel.Information,
        _ => LogEventLevel.Debug,
    };

    [UnmanagedCallersOnly]
    private static int Print(int level, byte* format, nint args)
    {
        try
        {
            var serilogLevel = LevelOf(level);
            if (!Log.IsEnabled(serilogLevel))
            {
                return 0;
            }
            const int capacity = 4096;
            var buffer = stackalloc byte[capacity];
            var length = Interop.Libc.VsnPrintf(buffer, capacity, format, args);
            if (length > 0)
            {
                var text = Marshal.PtrToStringUTF8((nint)buffer, Math.Min(length, capacity - 1)).TrimEnd();
                // libbpf names itself in most messages, not in the verifier's log lines.
                Log.Write(serilogLevel, "{Message}", text.StartsWith("libbpf: ", StringComparison.Ordinal) ? text : "libbpf: " + text);
            }
        }
        catch
        {
            // A logging failure must never unwind into native code.
        }
        return 0;
    }
}
