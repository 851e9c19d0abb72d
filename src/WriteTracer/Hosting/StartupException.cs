namespace WriteTracer.Hosting;

/// <summary>
/// A run-time failure an operator can fix: reported as one line, no stack trace, with exit code 1,
/// or the shell's 126 or 127 for a command that cannot be run (as env(1) and timeout(1) exit).
/// </summary>
internal sealed class StartupException(string message, Exception? inner = null, int exitCode = 1) : Exception(message, inner)
{
    public int ExitCode => exitCode;
}
