using System.Diagnostics;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>
/// A bash of the user nobody (setpriv: no groups, no capabilities), held until released,
/// then running a script: the privilege-gain tests' unprivileged caller.
/// </summary>
internal static class NobodyShell
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Starts it; returns once the process is bash running as nobody, so its pid is nobody's.</summary>
    public static Process StartHeld(string script)
    {
        var start = new ProcessStartInfo("setpriv") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in (string[])[.. ApiClient.Nobody, "/bin/bash", "-c", "read line; " + script])
        {
            start.ArgumentList.Add(arg);
        }
        var shell = Process.Start(start)!;
        shell.OutputDataReceived += (_, _) => { };
        shell.BeginOutputReadLine();
        var deadline = Stopwatch.StartNew();
        while (!File.ReadAllText($"/proc/{shell.Id}/status").Contains($"Uid:\t{ApiClient.NobodyUid}\t", StringComparison.Ordinal)
            || File.ReadAllText($"/proc/{shell.Id}/comm") != "bash\n")
        {
            Assert.True(deadline.Elapsed < Timeout, "setpriv did not execute bash as nobody");
            Thread.Sleep(5);
        }
        return shell;
    }

    /// <summary>Releases the shell and waits for its script to end; it must succeed.</summary>
    public static async Task RunAsync(Process shell)
    {
        await shell.StandardInput.WriteLineAsync("go");
        await shell.StandardInput.FlushAsync();
        using var cancel = new CancellationTokenSource(Timeout);
        await shell.WaitForExitAsync(cancel.Token);
        Assert.Equal(0, shell.ExitCode);
    }
}
