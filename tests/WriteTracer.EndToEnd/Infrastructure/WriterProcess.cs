using System.Diagnostics;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>
/// bin/writer (utilities/writer.c) held at start with -W until the test releases it,
/// so a tracer can register its pid before the first write; or another program that
/// waits for a line on stdin the same way.
/// </summary>
internal sealed class WriterProcess : IDisposable
{
    private readonly Process _process;

    private WriterProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    public Process Process => _process;

    /// <summary>Starts writer -W with the given options; it writes nothing until <see cref="Release"/>.</summary>
    public static WriterProcess StartHeld(params string[] args) => StartHeldProgram(Repository.Writer, ["-W", .. args]);

    /// <summary>Starts writer -W as the user nobody (setpriv executes it: the pid is the writer's).</summary>
    public static WriterProcess StartHeldAsNobody(params string[] args)
    {
        var writer = StartHeldProgram("setpriv", [.. ApiClient.Nobody, Repository.Writer, "-W", .. args]);
        // Until setpriv has executed the writer, the pid is root's.
        var deadline = Stopwatch.StartNew();
        while (ReadComm(writer.Pid) != "writer")
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(30) || writer.Process.HasExited)
            {
                throw new InvalidOperationException($"setpriv {writer.Pid} did not execute the writer");
            }
            Thread.Sleep(5);
        }
        return writer;
    }

    private static string? ReadComm(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").TrimEnd('\n');
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Starts a program that, like writer -W, waits for a line on stdin before it writes.</summary>
    public static WriterProcess StartHeldProgram(string program, IReadOnlyList<string> args)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start)!;
        // Drain its output so pipes never fill and block the writer.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new WriterProcess(process);
    }

    public void Release()
    {
        _process.StandardInput.WriteLine();
        _process.StandardInput.Flush();
    }

    /// <summary>Closes its stdin: a program that waits for end of file there goes on.</summary>
    public void CloseInput() => _process.StandardInput.Close();

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        _process.Dispose();
    }
}
