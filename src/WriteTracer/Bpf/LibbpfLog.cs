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

    /// <summary>
    /// A failed load's warning holds the program's whole verifier log, up to libbpf's 16 MiB log
    /// buffer, whose last lines say why the program was refused: warnings are formatted into a
    /// buffer that large (malloc'd once, on the first warning, and touched only as far as written).
    /// </summary>
    private const int WarningCapacity = (16 << 20) + 4096;

    /// <summary>The part of a long message kept from its start and from its end.</summary>
    public const int KeptHead = 4096, KeptTail = 12288;

    private static readonly Lock s_warningLock = new();
    private static byte* s_warningBuffer;

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
            if (serilogLevel < LogEventLevel.Warning)
            {
                const int capacity = 4096;
                var buffer = stackalloc byte[capacity];
                Write(serilogLevel, buffer, capacity, Interop.Libc.VsnPrintf(buffer, capacity, format, args));
                return 0;
            }
            lock (s_warningLock)
            {
                if (s_warningBuffer == null)
                {
                    s_warningBuffer = (byte*)NativeMemory.Alloc(WarningCapacity);
                }
                Write(serilogLevel, s_warningBuffer, WarningCapacity, Interop.Libc.VsnPrintf(s_warningBuffer, WarningCapacity, format, args));
            }
        }
        catch
        {
            // A logging failure must never unwind into native code.
        }
        return 0;
    }

    private static void Write(LogEventLevel level, byte* buffer, int capacity, int length)
    {
        if (length <= 0)
        {
            return;
        }
        var text = Shorten(Marshal.PtrToStringUTF8((nint)buffer, Math.Min(length, capacity - 1)).TrimEnd());
        // libbpf names itself in most messages, not in the verifier's log lines.
        Log.Write(level, "{Message}", text.StartsWith("libbpf: ", StringComparison.Ordinal) ? text : "libbpf: " + text);
    }

    /// <summary>A message longer than <see cref="KeptHead"/> + <see cref="KeptTail"/> loses its middle, and says how much.</summary>
    public static string Shorten(string text) => text.Length <= KeptHead + KeptTail ? text
        : $"{text[..KeptHead]}\n… {text.Length - KeptHead - KeptTail} characters of this message left out …\n{text[^KeptTail..]}";
}
