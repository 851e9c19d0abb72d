using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Serilog;
using WriteTracer.Native;

namespace WriteTracer.Hosting;

/// <summary>
/// Starts a command so that it is traced from its first instruction: a shell is
/// started that blocks on a FIFO; the tracer registers the shell's pid, then
/// releases it, and the shell execs the command in place (same pid, now tracked).
/// As a wrapper (like timeout or tini) it passes the tracer's signals on to the
/// command and makes sure the command never outlives the tracer (short of a SIGKILL of the tracer,
/// which leaves it running, as it would timeout(1)'s).
/// </summary>
internal sealed class CommandLauncher : IDisposable
{
    /// <summary>How long a command may take to exit after the first SIGINT or SIGTERM before it is killed.</summary>
    public static readonly TimeSpan KillAfter = TimeSpan.FromSeconds(10);

    private readonly string _directory;
    private readonly string _fifo;
    private readonly string _name;
    /// <summary>Signals go through it, so none can reach another process that reuses the pid.</summary>
    private readonly SafeFileHandle _pidFd;
    private readonly Timer _killTimer;
    private int _stopSignals;

    private CommandLauncher(Process process, SafeFileHandle pidFd, string name, string directory, string fifo)
    {
        Process = process;
        _pidFd = pidFd;
        _name = name;
        _directory = directory;
        _fifo = fifo;
        _killTimer = new Timer(_ => KillAfterGrace());
    }

    public Process Process { get; }

    public int Pid => Process.Id;

    /// <summary>
    /// The comm the kernel gives the process at the exec: the file name's last component, cut to
    /// TASK_COMM_LEN - 1 bytes (cut at a character boundary here: comm is shown as text).
    /// </summary>
    public string CommAfterExec => CommOf(_name);

    internal static string CommOf(string command)
    {
        const int TaskCommLength = 16;
        var name = Path.GetFileName(command);
        while (System.Text.Encoding.UTF8.GetByteCount(name) > TaskCommLength - 1)
        {
            name = name[..^(char.IsLowSurrogate(name[^1]) ? 2 : 1)];
        }
        return name;
    }

    /// <summary>
    /// Refuses, before anything is loaded, a command the held shell's exec would fail on, as the
    /// shell would (a name without '/' is looked up in PATH): 127 when there is no such file, 126
    /// when it cannot be executed. Otherwise the shell's own message would be the command's output.
    /// </summary>
    public static void EnsureRunnable(string command, string? path)
    {
        if (Unrunnable(command, path) is { } failure)
        {
            throw new StartupException($"cannot run {command}: {failure.Reason}", exitCode: failure.ExitCode);
        }
    }

    /// <summary>Why the shell could not exec command, with its exit status; null when it could.</summary>
    internal static (string Reason, int ExitCode)? Unrunnable(string command, string? path)
    {
        if (command.Contains('/'))
        {
            return Directory.Exists(command) ? ("it is a directory", 126)
                : !File.Exists(command) ? ("no such file", 127)
                : IsExecutable(command) ? null : ("permission denied", 126);
        }
        var found = false;
        // An empty PATH entry is the working directory; an unset PATH is dash's default.
        foreach (var directory in (path ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").Split(':'))
        {
            var candidate = Path.Join(directory.Length == 0 ? "." : directory, command);
            if (File.Exists(candidate))
            {
                if (IsExecutable(candidate))
                {
                    return null;
                }
                found = true;
            }
        }
        return found ? ("permission denied", 126) : ("not found in PATH", 127);
    }

    private static bool IsExecutable(string file) =>
        Interop.Libc.FAccessAt(Interop.Libc.AT_FDCWD, file, Interop.Libc.X_OK, Interop.Libc.AT_EACCESS) == 0;

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
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new StartupException($"cannot launch {command[0]}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            directory.Delete(recursive: true);
            throw new StartupException($"cannot launch {command[0]}: {e.Message}");
        }
        // Held on the FIFO, the shell cannot have exited yet: the pidfd names it.
        var pidFd = Interop.Libc.PidFdOpen(process.Id, 0);
        if (pidFd.IsInvalid)
        {
            var errno = Marshal.GetLastPInvokeError();
            process.Kill();
            process.Dispose();
            directory.Delete(recursive: true);
            throw new StartupException($"cannot launch {command[0]}: pidfd_open failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        return new CommandLauncher(process, pidFd, command[0], directory.FullName, fifo);
    }

    /// <summary>Lets the held shell exec the command.</summary>
    public void Release()
    {
        using var writer = new StreamWriter(_fifo);
        writer.WriteLine();
    }

    /// <summary>
    /// A signal the tracer received while the command runs: SIGINT, SIGTERM, SIGHUP and
    /// SIGQUIT go on to the command, and the tracer traces on until the command exits. A
    /// second SIGINT or SIGTERM kills the command, as does the first one after <see cref="KillAfter"/>.
    /// </summary>
    public void Forward(PosixSignal signal)
    {
        var stopping = signal is PosixSignal.SIGINT or PosixSignal.SIGTERM;
        if (stopping && Interlocked.Increment(ref _stopSignals) > 1)
        {
            Log.Warning("{Signal} received again; killing {Command}", signal, _name);
            Send(Interop.Libc.SIGKILL);
            return;
        }
        if (signal is not PosixSignal.SIGTERM && InTerminalForeground())
        {
            // The terminal sends ^C, ^\ and its hangup to its whole foreground process group,
            // the command included: passing the signal on would deliver it twice.
            Log.Information("{Signal} received; not passed on: {Command} is in the terminal's foreground process group, which the terminal signals itself; tracing until it exits", signal, _name);
        }
        else
        {
            Log.Information("{Signal} received; passed on to {Command} (pid {Pid}); tracing until it exits", signal, _name, Pid);
            Send(Number(signal));
        }
        if (stopping)
        {
            _killTimer.Change(KillAfter, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The tracer has to stop on its own (stdout closed, the reader failed): the command is stopped as SIGTERM would stop it.</summary>
    public void Stop(string reason)
    {
        if (Interlocked.Increment(ref _stopSignals) > 1)
        {
            return;
        }
        Log.Information("{Reason}; sending SIGTERM to {Command} (pid {Pid}) and tracing until it exits", reason, _name, Pid);
        Send(Interop.Libc.SIGTERM);
        _killTimer.Change(KillAfter, Timeout.InfiniteTimeSpan);
    }

    private void KillAfterGrace()
    {
        if (!Process.HasExited)
        {
            Log.Warning("{Command} is still running {Seconds} s after being asked to stop; killing it", _name, KillAfter.TotalSeconds);
            Send(Interop.Libc.SIGKILL);
        }
    }

    /// <summary>Sends the signal unless the command is gone (ESRCH: exited and reaped).</summary>
    private void Send(int signal)
    {
        if (Interop.Libc.PidFdSendSignal(_pidFd, signal) != 0
            && Marshal.GetLastPInvokeError() is var errno and not Interop.Libc.ESRCH)
        {
            Log.Error("cannot signal {Command}: {Error}", _name, Marshal.GetPInvokeErrorMessage(errno));
        }
    }

    /// <summary>True when the command is in the foreground process group of the tracer's controlling terminal.</summary>
    private bool InTerminalForeground()
    {
        SafeFileHandle terminal;
        try
        {
            terminal = File.OpenHandle("/dev/tty", FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // no controlling terminal
        }
        using (terminal)
        {
            var foreground = Interop.Libc.TcGetPgrp(terminal);
            return foreground > 0 && foreground == Interop.Libc.GetPgid(Pid);
        }
    }

    private static int Number(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGHUP => Interop.Libc.SIGHUP,
        PosixSignal.SIGINT => Interop.Libc.SIGINT,
        PosixSignal.SIGQUIT => Interop.Libc.SIGQUIT,
        PosixSignal.SIGTERM => Interop.Libc.SIGTERM,
        _ => throw new ArgumentOutOfRangeException(nameof(signal), signal, "not a signal passed on to the command"),
    };

    /// <summary>Kills the command if it still runs (tracing could not be set up, or the tracer failed): it never outlives the tracer.</summary>
    public void Dispose()
    {
        // A kill-timer callback still running would find the process disposed.
        using (var callbacksDone = new ManualResetEvent(false))
        {
            if (_killTimer.Dispose(callbacksDone))
            {
                callbacksDone.WaitOne();
            }
        }
        if (!Process.HasExited)
        {
            Send(Interop.Libc.SIGKILL);
            Process.WaitForExit();
        }
        Process.Dispose();
        _pidFd.Dispose();
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
