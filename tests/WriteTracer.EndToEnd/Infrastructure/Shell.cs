using System.Diagnostics;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>Runs a bash script (for pipelines and process-tree shapes) and collects its output.</summary>
internal static class Shell
{
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string script, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("/bin/bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        start.Environment["TRACER"] = Repository.Tracer;
        start.Environment["WRITER"] = Repository.Writer;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"script did not finish within {timeout}: {script}\n{await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
