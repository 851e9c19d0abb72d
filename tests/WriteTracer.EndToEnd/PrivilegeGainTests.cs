using System.Diagnostics;
using System.Net;
using System.Runtime.Versioning;
using System.Text.Json;
using WriteTracer.EndToEnd.Infrastructure;
using static WriteTracer.EndToEnd.Infrastructure.ApiClient;

namespace WriteTracer.EndToEnd;

/// <summary>
/// No privilege is gained through tracing: a shell the user nobody registered runs a setuid-root
/// copy of the writer, which the kernel untracks at its exec (with the child it forks), while
/// the shell and its other children stay traced. Registered by root, the same run is traced whole.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class PrivilegeGainTests : IDisposable
{
    private const int SetuidLines = 4, SetuidSize = 77, PlainLines = 3, PlainSize = 55;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    // /tmp, not a tmpfs mounted nosuid: the setuid bit must work there.
    private readonly string _dir = Directory.CreateTempSubdirectory("wt-setuid-").FullName;
    private readonly string _setuidWriter;

    public PrivilegeGainTests() => _setuidWriter = SetuidWriter.CreateIn(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [RootFact]
    public async Task A_setuid_exec_below_an_unprivileged_registration_is_untracked_and_counted()
    {
        var metricsPort = FreePort.Get();
        await using var api = await ApiTracer.StartAsync("--metrics-port", $"{metricsPort}");
        using var shell = StartNobodysShell();

        var (status, _) = await RegisterAsNobodyAsync($"{api.Port}", shell.Id);
        Assert.Equal(HttpStatusCode.Created, status);
        var events = await RunAsync(api, shell);

        // Only the shell's plain writer wrote as a traced process; the setuid writer and its child never appear.
        var plain = events.Where(e => e.GetProperty("count").GetInt32() == PlainSize).ToList();
        Assert.Equal(PlainLines, plain.Count);
        var plainPid = plain.Select(e => e.GetProperty("pid").GetInt32()).Distinct().Single();
        Assert.All(events, e => Assert.Contains(e.GetProperty("pid").GetInt32(), new[] { shell.Id, plainPid }));
        Assert.DoesNotContain(events, e => e.GetProperty("count").GetInt32() == SetuidSize);
        var metrics = await MetricsPage.ScrapeAsync(metricsPort);
        Assert.Equal(1, metrics["write_tracer_untracked_on_exec_total"]);
        Assert.Equal(0, await api.Tracer.StopAsync());
        Assert.Contains("untracked on a privilege-gaining exec 1", api.Tracer.Stderr);
    }

    [RootFact]
    public async Task Registered_by_root_the_same_run_is_traced_across_the_setuid_exec()
    {
        await using var api = await ApiTracer.StartAsync();
        using var shell = StartNobodysShell();

        var (status, _) = await AsRootAsync($"{api.Port}", "POST", "/pids", $$"""{"pid": {{shell.Id}}}""");
        Assert.Equal(HttpStatusCode.Created, status);
        var events = await RunAsync(api, shell);

        Assert.Equal(PlainLines, events.Count(e => e.GetProperty("count").GetInt32() == PlainSize));
        // The setuid writer and the child it forks, SetuidLines each.
        Assert.Equal(2 * SetuidLines, events.Count(e => e.GetProperty("count").GetInt32() == SetuidSize));
        Assert.Equal(0, await api.Tracer.StopAsync());
        Assert.DoesNotContain("untracked on a privilege-gaining exec", api.Tracer.Stderr);
    }

    /// <summary>
    /// With --lifecycle, the untracked program leaves no trace at all: no exec record (its name and
    /// argv are the privileged program's), and no exit, for it or the child it forks; the plain
    /// writer's exec and exit are there.
    /// </summary>
    [RootFact]
    public async Task With_lifecycle_a_setuid_exec_below_an_unprivileged_registration_emits_no_exec_and_no_exit()
    {
        await using var api = await ApiTracer.StartAsync("--lifecycle");
        using var shell = StartNobodysShell();

        var (status, _) = await RegisterAsNobodyAsync($"{api.Port}", shell.Id);
        Assert.Equal(HttpStatusCode.Created, status);
        await NobodyShell.RunAsync(shell);
        // The shell's exit is its last event: once it is in, every event is.
        await api.Tracer.WaitForEventsAsync(e => e.Kind() == "exit" && e.GetProperty("pid").GetInt32() == shell.Id, 1, Timeout);
        var events = api.Tracer.Events;

        var plain = events.Where(e => e.Kind() == "write" && e.GetProperty("count").GetInt32() == PlainSize).ToList();
        Assert.Equal(PlainLines, plain.Count);
        var plainPid = plain.Select(e => e.GetProperty("pid").GetInt32()).Distinct().Single();
        var exec = Assert.Single(events, e => e.Kind() == "exec");
        Assert.Equal(plainPid, exec.GetProperty("pid").GetInt32());
        Assert.Equal([Repository.Writer, "-n", $"{PlainLines}", "-s", $"{PlainSize}"], exec.GetProperty("argv").EnumerateArray().Select(a => a.GetString()));
        var exits = events.Where(e => e.Kind() == "exit").ToList();
        Assert.Equal(new[] { shell.Id, plainPid }.Distinct().Order(), exits.Select(e => e.GetProperty("pid").GetInt32()).Order());
        Assert.All(exits, e => Assert.Equal(0, e.GetProperty("code").GetInt32()));
        Assert.All(events, e => Assert.Contains(e.GetProperty("pid").GetInt32(), new[] { shell.Id, plainPid }));
        Assert.Equal(0, await api.Tracer.StopAsync());
        Assert.Contains("untracked on a privilege-gaining exec 1", api.Tracer.Stderr);
    }

    /// <summary>A bash of the user nobody that, once released, runs the setuid writer, then the plain one.</summary>
    private Process StartNobodysShell() => NobodyShell.StartHeld(
        $"{_setuidWriter} -n {SetuidLines} -s {SetuidSize} -c 1; {Repository.Writer} -n {PlainLines} -s {PlainSize}");

    /// <summary>Releases the shell, waits for it, and returns every event once the tracer has them all.</summary>
    private static async Task<IReadOnlyList<JsonElement>> RunAsync(ApiTracer api, Process shell)
    {
        await NobodyShell.RunAsync(shell);
        await api.Tracer.WaitForEventsAsync(e => e.GetProperty("count").GetInt32() == PlainSize, PlainLines, Timeout);
        return api.Tracer.Events;
    }
}
