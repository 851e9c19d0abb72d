using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.Tests.Infrastructure;

/// <summary>`systemd-analyze verify`: what systemd itself has to say about a unit file.</summary>
internal static class SystemdAnalyze
{
    public const string Missing = "systemd-analyze is not installed (it comes with systemd)";

    /// <summary>Its path, or null when it is not on PATH.</summary>
    public static string? Program { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Select(directory => Path.Combine(directory, "systemd-analyze"))
        .FirstOrDefault(File.Exists);

    /// <summary>
    /// Everything verify reports about the unit: empty when it finds nothing wrong. Its exit code
    /// alone is no verdict: it stays 0 when systemd merely ignores a setting, a misspelled key or
    /// value, which the unit would then run without. ExecStart's program must exist.
    /// </summary>
    public static async Task<string> VerifyAsync(string unitPath)
    {
        var (exitCode, stdout, stderr) = await Shell.ExecAsync(
            Program ?? throw new InvalidOperationException(Missing), ["verify", unitPath], TimeSpan.FromMinutes(1));
        return (exitCode == 0 ? "" : $"exit code {exitCode}\n") + stdout + stderr;
    }
}
