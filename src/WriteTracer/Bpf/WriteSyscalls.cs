namespace WriteTracer.Bpf;

/// <summary>The calls of the write family by their names (strace's and the kernel's), and what each takes.</summary>
internal static class WriteSyscalls
{
    /// <summary>Every call of the family, in <c>WT_SYSCALL_*</c> order.</summary>
    public static readonly IReadOnlyList<WriteSyscall> All = Enum.GetValues<WriteSyscall>();

    private static readonly string[] Names = ["write", "writev", "pwrite64", "pwritev", "pwritev2"];
    private static readonly byte[][] Utf8Names = [.. Names.Select(n => System.Text.Encoding.UTF8.GetBytes(n))];

    /// <summary>The name of the syscall, as the kernel's tracepoints and strace spell it.</summary>
    public static string Name(this WriteSyscall syscall) => Names[(int)syscall];

    public static ReadOnlySpan<byte> Utf8Name(this WriteSyscall syscall) => Utf8Names[(int)syscall];

    /// <summary>The vector calls take an iovec array (their events carry iovcnt).</summary>
    public static bool IsVector(this WriteSyscall syscall) =>
        syscall is WriteSyscall.Writev or WriteSyscall.Pwritev or WriteSyscall.Pwritev2;

    /// <summary>The positioned calls take a file offset (their events carry it).</summary>
    public static bool IsPositioned(this WriteSyscall syscall) =>
        syscall is WriteSyscall.Pwrite64 or WriteSyscall.Pwritev or WriteSyscall.Pwritev2;

    public static bool TryParse(string name, out WriteSyscall syscall)
    {
        var index = Array.IndexOf(Names, name);
        syscall = (WriteSyscall)Math.Max(index, 0);
        return index >= 0;
    }
}
