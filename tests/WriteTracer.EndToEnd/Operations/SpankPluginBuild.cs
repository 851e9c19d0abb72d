using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd.Operations;

/// <summary>
/// Builds the SPANK plugin through `make slurm-plugin` (so the Makefile target is what is tested)
/// and the slurmstepd stand-in that loads it, once for the tests that share this fixture.
/// </summary>
public sealed class SpankPluginBuild : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private readonly TempFile _directory = new();

    public string Plugin => Path.Combine(_directory.Directory, "spank_write_tracer.so");

    public string Harness => Path.Combine(_directory.Directory, "spank_harness");

    public async Task InitializeAsync()
    {
        // MAKEFLAGS cleared: under `make test` the outer make's flags would leak into this one.
        var make = await Shell.ExecAsync("make",
            ["-C", Repository.Root, "--no-print-directory", "slurm-plugin", $"SLURM_PLUGIN={Plugin}"],
            Timeout, new Dictionary<string, string> { ["MAKEFLAGS"] = "" });
        Assert.True(make.ExitCode == 0 && File.Exists(Plugin),
            $"`make slurm-plugin` built no plugin (`make deps` installs libslurm-dev):\n{make.Stdout}{make.Stderr}");

        var source = Path.Combine(Repository.Root, "tests", "WriteTracer.EndToEnd", "Operations", "spank_harness.c");
        var cc = await Shell.ExecAsync("cc", ["-O2", "-Wall", "-Wextra", "-Werror", "-rdynamic", "-o", Harness, source, "-ldl"], Timeout);
        Assert.True(cc.ExitCode == 0, $"the harness does not compile:\n{cc.Stderr}");
    }

    public Task DisposeAsync()
    {
        _directory.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Runs the plugin's hooks for one task with these plugstack.conf arguments.</summary>
    public async Task<(string Results, string Log)> RunTaskAsync(string context, int taskPid, params string[] arguments)
    {
        var (exitCode, stdout, stderr) = await Shell.ExecAsync(Harness, [context, Plugin, $"{taskPid}", .. arguments], Timeout);
        Assert.True(exitCode == 0, $"the harness failed ({exitCode}): {stderr}");
        return (stdout.TrimEnd('\n'), stderr);
    }
}
