namespace WriteTracer.Tracking;

/// <summary>Who registered a root, as the kernel identified them.</summary>
/// <param name="Uid">The caller's uid (the tracer's own for the command line).</param>
/// <param name="Administrator">
/// uid 0, CAP_SYS_PTRACE, the bearer token or the command line: the tree keeps being traced
/// across a privilege-gaining exec. Any other registration is untracked there.
/// </param>
internal readonly record struct Registrant(int Uid, bool Administrator)
{
    /// <summary>The operator who started the tracer (-p, a command after --).</summary>
    public static Registrant Operator { get; } = new((int)Native.Interop.Libc.GetEUid(), true);
}
