using System.Runtime.InteropServices;

namespace WriteTracer.EndToEnd.Infrastructure;

internal static partial class Privileges
{
    public static bool IsRoot => geteuid() == 0;

    /// <summary>Sends a signal (e.g. SIGTERM = 15) to a process.</summary>
    public static void Signal(int pid, int signal)
    {
        if (kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public const int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGKILL = 9, SIGTERM = 15, SIGCONT = 18, SIGSTOP = 19;

    [LibraryImport("libc")]
    private static partial uint geteuid();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
