using System.Diagnostics;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>Runs a bash script (for pipelines and process-tree shapes) or a program, and collects its output.</summary>
internal static class Shell
{
    /// <summary>Runs a bash script with $TRACER and $WRITER set to the built binaries.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string script, TimeSpan timeout) =>
        ExecAsync("/bin/bash", ["-c", script], timeout, new Dictionary<string, string>
        {
            ["TRACER"] = Repository.Tracer,
            ["WRITER"] = Repository.Writer,
        });

    /// <summary>Runs a program with these arguments as they are (no shell in between).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> ExecAsync(
        string program, IReadOnlyList<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
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
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish within {timeout}\n{await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
