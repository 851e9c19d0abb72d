namespace WriteTracer.Events;

/// <summary>Signal names as strace prints them (<c>+++ killed by SIGKILL +++</c>): Linux's numbering on x86 and arm64.</summary>
internal static class SignalNames
{
    private static readonly byte[][] Standard =
    [
        .. new[]
        {
            "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1",
            "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP",
            "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
        }.Select(System.Text.Encoding.ASCII.GetBytes),
    ];

    /// <summary>The first real-time signal (the kernel's SIGRTMIN; glibc reserves the first two).</summary>
    private const int RealTimeMin = 32;
    private const int RealTimeMax = 64;

    /// <summary>Writes the signal's name: SIGKILL, SIGRT_n for real-time signal RealTimeMin + n (as strace), else the number.</summary>
    public static void Write(int signal, ref Utf8Writer w)
    {
        if (signal >= 1 && signal <= Standard.Length)
        {
            w.Raw(Standard[signal - 1]);
        }
        else if (signal >= RealTimeMin && signal <= RealTimeMax)
        {
            w.Raw("SIGRT_"u8);
            w.Number(signal - RealTimeMin);
        }
        else
        {
            w.Number(signal);
        }
    }
}
