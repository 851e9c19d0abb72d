using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Serilog;
using WriteTracer.Native;

namespace WriteTracer.Bpf;

/// <summary>Routes libbpf's own messages (verifier log included) to the diagnostics log at debug.</summary>
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

    [UnmanagedCallersOnly]
    private static int Print(int level, byte* format, nint args)
    {
        try
        {
            const int capacity = 4096;
            var buffer = stackalloc byte[capacity];
            var length = Interop.Libc.VsnPrintf(buffer, capacity, format, args);
            if (length > 0)
            {
                var text = Marshal.PtrToStringUTF8((nint)buffer, Math.Min(length, capacity - 1)).TrimEnd();
                Log.Debug("libbpf: {Message}", text);
            }
        }
        catch
        {
            // A logging failure must never unwind into native code.
        }
        return 0;
    }
}
