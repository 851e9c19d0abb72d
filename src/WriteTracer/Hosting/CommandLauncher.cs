using System.Diagnostics;
using System.Runtime.InteropServices;
using WriteTracer.Native;

namespace WriteTracer.Hosting;

/// <summary>
/// Starts a command so that it is traced from its first instruction: a shell is
/// started that blocks on a FIFO; the tracer registers the shell's pid, then
/// releases it, and the shell execs the command in place (same pid, now tracked).
/// </summary>
internal sealed class CommandLauncher : IDisposable
{
    private readonly string _directory;
    private readonly string _fifo;

    private CommandLauncher(Process process, string directory, string fifo)
    {
        Process = process;
        _directory = directory;
        _fifo = fifo;
    }

    public Process Process { get; }

    public int Pid => Process.Id;

    /// <summary>Starts the command held before exec.</summary>
    public static CommandLauncher Start(IReadOnlyList<string> command)
    {
        var directory = Directory.CreateTempSubdirectory("write-tracer-");
        var fifo = Path.Combine(directory.FullName, "release");
        if (Interop.Libc.MkFifo(fifo, 0x180 /* 0600 */) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            directory.Delete(recursive: true);
            throw new StartupException($"cannot launch {command[0]}: mkfifo failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        // $1 is the FIFO, then the command; $0 names the shell in its error messages.
        // Reading a line from the FIFO is the release signal.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("read -r _ < \"$1\" || exit 126; shift; exec \"$@\"");
        start.ArgumentList.Add("write-tracer");
        start.ArgumentList.Add(fifo);
        foreach (var argument in command)
        {
            start.ArgumentList.Add(argument);
        }
        try
        {
            var process = Process.Start(start) ?? throw new StartupException($"cannot launch {command[0]}");
            return new CommandLauncher(process, directory.FullName, fifo);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            directory.Delete(recursive: true);
            throw new StartupException($"cannot launch {command[0]}: {e.Message}");
        }
    }

    /// <summary>Lets the held shell exec the command.</summary>
    public void Release()
    {
        using var writer = new StreamWriter(_fifo);
        writer.WriteLine();
    }

    /// <summary>Kills the held shell when tracing could not be set up.</summary>
    public void Abort()
    {
        try
        {
            Process.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    public void Dispose()
    {
        Process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temporary directory.
        }
    }
}
