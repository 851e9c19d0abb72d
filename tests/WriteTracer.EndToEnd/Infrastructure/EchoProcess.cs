using System.Diagnostics;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>
/// A process that writes each line it receives back with exactly one write(2), when
/// the test says so: the test knows the write happened once the line comes back.
/// It also runs Python statements (<see cref="RunAsync"/>) for tests that need writes
/// to files, pipes or sockets the process opened itself.
/// </summary>
internal sealed class EchoProcess : IDisposable
{
    private const string Script = """
        import os, socket, subprocess, sys
        os.write(1, b"ready\n")
        for line in sys.stdin:
            if line.startswith("run: "):
                exec(line[len("run: "):])
            os.write(1, line.encode())
        """;

    private readonly Process _process;

    private EchoProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    public static async Task<EchoProcess> StartAsync()
    {
        var start = new ProcessStartInfo("python3")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Script);
        var echo = new EchoProcess(Process.Start(start)!);
        await echo.ReadLineAsync("ready");
        return echo;
    }

    /// <summary>Has the process write line + "\n" and waits until it did.</summary>
    public async Task EchoAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
        await ReadLineAsync(line);
    }

    /// <summary>
    /// Runs one line of Python (os, socket, subprocess and sys imported; names persist
    /// from one statement to the next), then echoes "run: STATEMENT" on fd 1.
    /// </summary>
    public Task RunAsync(string statement) => EchoAsync("run: " + statement);

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }
        _process.Dispose();
    }

    private async Task ReadLineAsync(string expected)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var line = await _process.StandardOutput.ReadLineAsync(timeout.Token);
        Assert.Equal(expected, line);
    }
}
