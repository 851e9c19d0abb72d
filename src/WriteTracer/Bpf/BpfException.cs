using System.Runtime.InteropServices;
using WriteTracer.Native;

namespace WriteTracer.Bpf;

/// <summary>A failure of the kernel side, with a message an operator can act on.</summary>
internal sealed class BpfException(string message, int errno) : Exception(message)
{
    public int Errno { get; } = errno;

    public static BpfException From(string operation, int errno)
    {
        var hint = errno switch
        {
            Interop.Libc.EPERM or Interop.Libc.EACCES =>
                "needs root or CAP_BPF and CAP_PERFMON",
            Interop.Libc.ENOMEM or Interop.Libc.E2BIG =>
                "not enough locked memory or map space: try a smaller --ring-buffer-mb",
            _ => Marshal.GetPInvokeErrorMessage(errno),
        };
        return new BpfException($"{operation}: {hint} (errno {errno})", errno);
    }
}
